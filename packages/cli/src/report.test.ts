import { describe, expect, it } from 'vitest';
import { bar, lineChart } from './report.js';

describe('lineChart', () => {
  it('marks each value at its height, with a stem below it', () => {
    const chart = lineChart([0.5, 0.7, 0.9], 'accuracy', 3).split('\n');
    expect(chart[0]).toBe('accuracy');
    expect(chart[1]).toBe('  0.9000 ┤     ●');
    expect(chart[2]).toBe('  0.7000 ┤   ● │');
    expect(chart[3]).toBe('  0.5000 ┤ ● │ │');
  });

  it('leaves gaps for rounds without a value and prints nothing for an empty series', () => {
    expect(lineChart([0.5, undefined, 0.6], 'acc', 2).split('\n')[2]).toBe('  0.5000 ┤ ●   │');
    expect(lineChart([undefined], 'acc')).toBe('');
  });
});

describe('bar', () => {
  it('fills in proportion', () => {
    expect(bar(1, 4, 8)).toBe('██░░░░░░');
    expect(bar(0, 0, 4)).toBe('░░░░');
  });
});
