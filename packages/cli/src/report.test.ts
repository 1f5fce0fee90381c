import type { RoundSummary } from '@fedlearn/server';
import { describe, expect, it } from 'vitest';
import { bar, lineChart, roundTable } from './report.js';

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

describe('roundTable', () => {
  const round = (n: number, dropped: number, timedOut: number): RoundSummary => ({
    round: n,
    status: 'ok',
    sampled: 5,
    completed: 5 - dropped - timedOut,
    dropped,
    failed: 0,
    timedOut,
    seconds: 1,
    bytesUp: 0,
    bytesDown: 0,
  });

  it('shows each round’s dropouts: disconnected plus silent at the deadline', () => {
    const lines = roundTable([round(1, 0, 0), round(2, 1, 2)]).split('\n');
    const head = lines.find((l) => l.includes('round'))!;
    const cells = (line: string) =>
      line
        .split('│')
        .map((c) => c.trim())
        .filter(Boolean);
    const dropIndex = cells(head).indexOf('dropped');
    expect(dropIndex).toBe(2);
    const rows = lines.filter((l) => /^\s*│\s*\d/.test(l)).map(cells);
    expect(rows.map((r) => [r[0], r[1], r[dropIndex]])).toEqual([
      ['1', '5/5', '0'],
      ['2', '2/5', '3'],
    ]);
  });
});
