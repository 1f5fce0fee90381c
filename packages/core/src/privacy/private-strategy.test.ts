import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../random.js';
import { CoordinateMedian } from '../strategy/coordinate-wise.js';
import { FedAvg } from '../strategy/fedavg.js';
import { l2Norm } from './clip.js';
import { NO_PRIVACY, type PrivacySpec } from './privacy-spec.js';
import { withPrivacy } from './private-strategy.js';

const D = 20_000;
const central: PrivacySpec = { ...NO_PRIVACY, mode: 'central', noiseMultiplier: 1.5, clipNorm: 0.8 };
const silent: Rng = { next: () => 0.5, int: () => 0, normal: () => 0 };

/** Seeded deltas of the given L2 norms around `global`. */
function updates(global: Float32Array, norms: number[]): Float32Array[] {
  const rng = createRng(11);
  return norms.map((norm) => {
    const delta = Float64Array.from({ length: global.length }, () => rng.normal());
    const scale = norm / l2Norm(delta);
    return Float32Array.from(global, (g, i) => g + (delta[i] as number) * scale);
  });
}

function run(rng: Rng, global: Float32Array, params: Float32Array[]): Float32Array {
  const strategy = withPrivacy(new FedAvg(), central, { rng });
  const round = strategy.beginRound(1, global);
  // Example counts differ: under DP every update counts once all the same.
  for (const [i, p] of params.entries()) {
    round.add({ clientId: `c${i}`, numExamples: 10 * (i + 1), params: p, metrics: {} });
  }
  return round.finish().params;
}

describe('central DP-FedAvg (strategy wrapper)', () => {
  const global = Float32Array.from({ length: D }, (_, i) => Math.sin(i));
  const params = updates(global, [0.3, 2, 5, 0.8]);

  it('clips each update to C and weighs every client once', () => {
    const next = run(silent, global, params);
    const clipped = params.map((p) => {
      const delta = Float64Array.from(p, (v, i) => v - (global[i] as number));
      const norm = l2Norm(delta);
      return delta.map((d) => d * Math.min(1, 0.8 / norm));
    });
    for (let i = 0; i < D; i += 97) {
      const mean = clipped.reduce((s, d) => s + (d[i] as number), 0) / 4;
      expect(next[i]).toBeCloseTo((global[i] as number) + mean, 5);
    }
  });

  it('adds Gaussian noise of standard deviation σ·C to the sum (seeded; variance within 4 standard errors)', () => {
    const exact = run(silent, global, params);
    const noised = run(createRng(99), global, params);
    // (noised − exact)·n is the noise on the sum: N(0, (σC)²) per coordinate.
    const noise = Float64Array.from(noised, (v, i) => (v - (exact[i] as number)) * 4);
    const mean = noise.reduce((s, v) => s + v, 0) / D;
    const variance = noise.reduce((s, v) => s + (v - mean) ** 2, 0) / (D - 1);
    const sigma2 = (1.5 * 0.8) ** 2;
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(sigma2 / D));
    // float32 rounding of the model adds ~1e-7 relative: far below the 4·√(2/D) ≈ 4% bound.
    expect(Math.abs(variance / sigma2 - 1)).toBeLessThan(4 * Math.sqrt(2 / D));
  });

  it('refuses a strategy that needs every update in the clear', () => {
    expect(() => withPrivacy(new CoordinateMedian({}), central)).toThrow(/sum-only strategy/);
  });

  it('asks the clients to clip (and, under distributed DP, to add a noise share)', () => {
    expect(withPrivacy(new FedAvg(), central, { rng: silent }).fitConfig?.(1)).toEqual({
      privacy: { clipNorm: 0.8 },
    });
    const distributed = withPrivacy(
      new FedAvg({ minFitClients: 5 }),
      { ...central, mode: 'distributed' },
      {
        ring: { clipRange: 9, bits: 20 },
      },
    );
    expect(distributed.fitConfig?.(3)).toEqual({
      privacy: { clipNorm: 0.8, noise: { noiseMultiplier: 1.5, clients: 5, clipRange: 9, bits: 20 } },
    });
  });
});
