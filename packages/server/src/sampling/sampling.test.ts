import { type ClientInfo, createRng } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { ClientRecords } from './client-records.js';
import { overSelect } from './over-selection.js';

const info = (clientId: string): ClientInfo => ({
  clientId,
  numExamples: 1,
  numEvalExamples: 0,
  capabilities: { secagg: false, backend: 'test' },
});

describe('client records', () => {
  it('estimate reliability from completed and missed rounds, not from rounds cut at the quorum', () => {
    const records = new ClientRecords();
    expect(records.reliability('new')).toBe(0.5);
    for (let r = 0; r < 3; r++) {
      records.sampled('good', 1000 * r);
      records.completed('good', 1000 * r + 2000);
      records.sampled('flaky', 0);
      records.missed('flaky');
      records.sampled('late', 0);
      records.cut('late');
    }
    expect(records.reliability('good')).toBe(0.8);
    expect(records.reliability('flaky')).toBe(0.2);
    expect(records.reliability('late')).toBe(0.5);
    expect(records.get('good')).toMatchObject({ sampled: 3, completed: 3, fitSeconds: 2 });
    expect(records.get('late')).toMatchObject({ sampled: 3, cut: 3, completed: 0, missed: 0 });
  });

  it('weighs recent fit times more (exponential mean)', () => {
    const records = new ClientRecords();
    records.sampled('c', 0);
    records.completed('c', 10_000);
    records.sampled('c', 0);
    records.completed('c', 20_000);
    expect(records.get('c')!.fitSeconds).toBeCloseTo(13, 10);
  });
});

describe('over-selection', () => {
  it('adds the most reliable unchosen clients and waits only for as many as the strategy chose', () => {
    const records = new ClientRecords();
    records.missed('d');
    records.completed('e', 0);
    const eligible = ['a', 'b', 'c', 'd', 'e', 'f'].map(info);
    const { sampled, quorum } = overSelect(['a', 'b', 'c'], eligible, 0.5, records, createRng(1));
    expect(quorum).toBe(3);
    expect(sampled.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(sampled[3]).toBe('e');
    expect(sampled).toHaveLength(5);
    expect(sampled[4]).toBe('f');
  });

  it('without over-selection samples exactly the strategy’s choice and draws no randomness', () => {
    const rng = createRng(7);
    const twin = createRng(7);
    const result = overSelect(['a'], ['a', 'b'].map(info), 0, new ClientRecords(), rng);
    expect(result).toEqual({ sampled: ['a'], quorum: 1 });
    expect(rng.next()).toBe(twin.next());
  });
});
