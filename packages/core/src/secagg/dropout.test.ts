import { describe, expect, it } from 'vitest';
import { isFedlearnError } from '../errors.js';
import { createRng } from '../random.js';
import { recommendNeighbourhood } from './config.js';
import { SECAGG_CLIENT_STAGES, type SecAggClientStage, simulateSecAggRound } from './simulate.js';

function expectPlainSumOverSurvivors(sim: ReturnType<typeof simulateSecAggRound>) {
  expect(sim.error).toBeUndefined();
  const result = sim.result!;
  expect(Array.from(result.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  for (const [id, stage] of sim.droppedAt) {
    // A client lost at the unmasking stage already sent its masked input: it is in the sum.
    if (stage === 'unmask') expect(result.survivors).toContain(id);
    else expect(result.dropped).toContain(id);
  }
}

describe('dropouts', () => {
  // Large neighbourhoods (k from recommendNeighbourhood at 30%) make this one slow on a shared machine.
  it('recovers the plain sum over survivors with up to 30% dropped at random at every stage', {
    timeout: 600_000,
  }, () => {
    const rng = createRng(77);
    for (let trial = 0; trial < 10; trial++) {
      const n = 10 + rng.int(21);
      const budget = Math.floor(0.3 * n);
      const dropouts: Partial<Record<SecAggClientStage, number>> = {};
      let left = budget;
      for (const stage of SECAGG_CLIENT_STAGES) {
        const c = rng.int(left + 1);
        dropouts[stage] = c;
        left -= c;
      }
      const sim = simulateSecAggRound({
        n,
        d: 1 + rng.int(200),
        seed: 500 + trial,
        dropouts,
        // 2t > k: the neighbourhood grows with the dropout rate instead of the threshold shrinking.
        config: recommendNeighbourhood(n, { dropoutRate: 0.3 }),
      });
      expectPlainSumOverSurvivors(sim);
      const masked =
        (dropouts['advertise-keys'] ?? 0) + (dropouts['share-keys'] ?? 0) + (dropouts['masked-input'] ?? 0);
      expect(sim.result!.survivors).toHaveLength(n - masked);
    }
  });

  it('excludes a client lost before masking and rebuilds the pairwise masks of one lost after sharing keys', () => {
    for (const stage of SECAGG_CLIENT_STAGES) {
      const sim = simulateSecAggRound({ n: 12, d: 64, seed: 31, dropouts: { [stage]: 2 } });
      expectPlainSumOverSurvivors(sim);
      expect(sim.result!.survivors).toHaveLength(stage === 'unmask' ? 12 : 10);
    }
  });

  it('with a sparse SecAgg+ graph (k < n - 1) and 30% dropped after masking', { timeout: 120_000 }, () => {
    const sim = simulateSecAggRound({
      n: 60,
      d: 32,
      seed: 4,
      dropouts: { 'masked-input': 9, unmask: 9 },
      config: { neighbours: 24, threshold: 13 },
    });
    expect(sim.server.params.neighbours).toBeLessThan(59);
    expectPlainSumOverSurvivors(sim);
  });

  it('aborts cleanly, with no result, when fewer than t clients survive a stage', () => {
    for (const stage of SECAGG_CLIENT_STAGES) {
      const sim = simulateSecAggRound({
        n: 8,
        d: 16,
        seed: 8,
        dropouts: { [stage]: 4 },
        config: { threshold: 5 },
      });
      expect(sim.outcome.kind, stage).toBe('aborted');
      expect(isFedlearnError(sim.error, 'SECAGG_BELOW_THRESHOLD')).toBe(true);
      expect(sim.result).toBeUndefined();
      expect(() => sim.server.result()).toThrowError(
        expect.objectContaining({ code: 'SECAGG_BELOW_THRESHOLD' }),
      );
      expect(sim.server.currentStage).toBe('aborted');
    }
  });

  it('aborts when a survivor keeps fewer than t live neighbours to rebuild its seed', () => {
    // k = 4, t = 4: losing one holder at the unmasking stage leaves some survivor without enough shares.
    const sim = simulateSecAggRound({
      n: 10,
      d: 8,
      seed: 12,
      dropouts: { unmask: 1 },
      config: { neighbours: 4, threshold: 4 },
    });
    expect(sim.outcome.kind).toBe('aborted');
    expect(isFedlearnError(sim.error, 'SECAGG_BELOW_THRESHOLD')).toBe(true);
    expect(sim.error?.details.clientId).toBeTypeOf('string');
  });

  it('a closed round answers every later call with its outcome and refuses late messages', () => {
    const sim = simulateSecAggRound({ n: 6, d: 4, seed: 2 });
    expect(sim.server.closeStage()).toBe(sim.outcome);
    expect(() =>
      sim.server.handle('client-0', { type: 'secagg/unmask', round: 3, seedShares: [], keyShares: [] }),
    ).toThrowError(expect.objectContaining({ code: 'SECAGG_WRONG_STAGE' }));
  });
});
