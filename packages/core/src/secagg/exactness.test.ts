import { describe, expect, it } from 'vitest';
import { createRng } from '../random.js';
import { dequantizeSum } from './quantize.js';
import { simulateSecAggRound } from './simulate.js';

describe('secure sum is exact', () => {
  it('equals the plain sum of the same quantized updates, bit for bit, for random n, d, weights and seeds', {
    timeout: 120_000,
  }, () => {
    const rng = createRng(20260101);
    for (let trial = 0; trial < 12; trial++) {
      const n = 3 + rng.int(22);
      const d = 1 + rng.int(300);
      const quantizationBits = 1 + rng.int(16);
      const maxWeight = 1 + rng.int(1000);
      const sim = simulateSecAggRound({ n, d, seed: 1000 + trial, config: { quantizationBits, maxWeight } });
      expect(sim.error, `trial ${trial}`).toBeUndefined();
      const result = sim.result!;
      expect(result.survivors).toHaveLength(n);
      expect(Array.from(result.ringSum)).toEqual(Array.from(sim.expectedRingSum));
      const plain = dequantizeSum(sim.server.params, sim.expectedRingSum);
      expect(result.sumWeights).toBe(plain.sumWeights);
      expect(Array.from(result.weightedSum)).toEqual(Array.from(plain.weightedSum));
    }
  });

  it('uses the full 32-bit ring when the configuration needs it', () => {
    const sim = simulateSecAggRound({
      n: 16,
      d: 50,
      seed: 5,
      config: { quantizationBits: 16, maxWeight: 2 ** 12 },
    });
    expect(sim.server.params.ringBits).toBe(32);
    expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  });

  it('dequantizes to Σw and Σ w·x within one quantization step per unit of weight', () => {
    const sim = simulateSecAggRound({ n: 8, d: 40, seed: 9, config: { quantizationBits: 16, clipRange: 4 } });
    const result = sim.result!;
    let sumW = 0;
    const exact = new Float64Array(40);
    for (const [id, input] of sim.inputs) {
      if (!result.survivors.includes(id)) continue;
      sumW += input.weight;
      input.update.forEach((x, i) => {
        exact[i] = (exact[i] as number) + input.weight * Math.max(-4, Math.min(4, x));
      });
    }
    expect(result.sumWeights).toBe(sumW);
    const step = 8 / (2 ** 16 - 1);
    result.weightedSum.forEach((v, i) => {
      expect(Math.abs(v - (exact[i] as number))).toBeLessThanOrEqual(sumW * step + 1e-9);
    });
  });
});
