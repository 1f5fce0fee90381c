import { addMask, createRng, type MaskJob, seededRandomBytes } from '@fedlearn/core';
import { simulateSecAggRound } from '@fedlearn/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { KeystreamPool } from './pool.js';

const pools = [2, 3, 4].map((threads) => new KeystreamPool({ threads }));
afterAll(() => Promise.all(pools.map((p) => p.close())));

function randomJobs(seed: number, count: number): MaskJob[] {
  const random = seededRandomBytes(seed);
  const rng = createRng(seed);
  return Array.from({ length: count }, () => ({ seed: random(32), sign: rng.int(2) === 0 ? 1 : -1 }));
}

describe('keystream worker pool', () => {
  it('gives the single-threaded portable sum bit for bit, for random seeds, lengths and thread counts', () => {
    const rng = createRng(77);
    for (let trial = 0; trial < 9; trial++) {
      const pool = pools[trial % pools.length] as KeystreamPool;
      const length = 8192 + rng.int(40_000);
      const jobs = randomJobs(100 + trial, 1 + rng.int(6));
      const start = Uint32Array.from({ length }, () => rng.int(2 ** 32));
      const expected = start.slice();
      for (const { seed, sign } of jobs) addMask(expected, seed, sign);
      const got = start.slice();
      pool.addMasks(got, jobs);
      expect(got).toEqual(expected);
    }
  }, 60_000);

  it('reuses its shared buffer across calls of different lengths without carrying values over', () => {
    const pool = pools[0] as KeystreamPool;
    const jobs = randomJobs(5, 3);
    const long = new Uint32Array(50_000);
    pool.addMasks(long, jobs);
    const short = new Uint32Array(20_000);
    pool.addMasks(short, jobs);
    expect(short).toEqual(long.subarray(0, 20_000));
  }, 30_000);

  it('unmasks whole rounds to the same sum as the portable single thread (random seeds)', () => {
    const rng = createRng(78);
    for (let trial = 0; trial < 2; trial++) {
      const options = {
        n: 8,
        d: 9000 + rng.int(3000),
        seed: rng.int(2 ** 31),
        dropouts: { 'masked-input': 2 },
      } as const;
      const portable = simulateSecAggRound(options);
      const pooled = simulateSecAggRound({ ...options, serverKeystream: pools[1] as KeystreamPool });
      expect(portable.result).toBeDefined();
      expect(pooled.result?.ringSum).toEqual(portable.result?.ringSum);
      expect(Array.from(pooled.result?.ringSum ?? [])).toEqual(Array.from(pooled.expectedRingSum));
    }
  }, 60_000);
});
