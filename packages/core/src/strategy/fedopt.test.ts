import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { createRng, type Rng } from '../random.js';
import { FedAdagrad, FedAdam, FedAvgM, FedYogi } from './fedopt.js';
import type { Strategy } from './types.js';

/** Reddi et al. 2021, Algorithm 2, and Hsu et al. 2019, in float64 straight from the equations. */
function reference(name: string, o: Record<string, number>, d: number) {
  const m = new Float64Array(d);
  const v = new Float64Array(d).fill(name === 'fedavgm' ? 0 : (o.tau as number) ** 2);
  return (x: Float64Array, mean: Float64Array): Float64Array => {
    const next = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const delta = (mean[i] as number) - (x[i] as number);
      if (name === 'fedavgm') {
        m[i] = (o.serverMomentum as number) * (m[i] as number) + delta;
        next[i] = (x[i] as number) + (o.serverLearningRate as number) * (m[i] as number);
        continue;
      }
      const [b1, b2, eta, tau] = [o.beta1, o.beta2, o.eta, o.tau] as number[];
      m[i] = b1! * (m[i] as number) + (1 - b1!) * delta;
      const sq = delta ** 2;
      if (name === 'fedadagrad') v[i] = (v[i] as number) + sq;
      if (name === 'fedadam') v[i] = b2! * (v[i] as number) + (1 - b2!) * sq;
      if (name === 'fedyogi') v[i] = (v[i] as number) - (1 - b2!) * sq * Math.sign((v[i] as number) - sq);
      next[i] = (x[i] as number) + (eta! * (m[i] as number)) / (Math.sqrt(v[i] as number) + tau!);
    }
    return next;
  };
}

const cases: [string, Record<string, number>, (o: Record<string, number>) => Strategy][] = [
  ['fedavgm', { serverLearningRate: 0.7, serverMomentum: 0.9 }, (o) => new FedAvgM(o)],
  ['fedadagrad', { eta: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-2 }, (o) => new FedAdagrad(o)],
  ['fedadam', { eta: 0.05, beta1: 0.8, beta2: 0.95, tau: 1e-2 }, (o) => new FedAdam(o)],
  ['fedyogi', { eta: 0.05, beta1: 0.9, beta2: 0.9, tau: 1e-2 }, (o) => new FedYogi(o)],
];

function roundOf(rng: Rng, x: Float32Array, n: number) {
  const updates = Array.from({ length: n }, () => x.map((xi) => xi + rng.normal() * 0.3 + 0.05));
  const weights = updates.map(() => 1 + rng.int(500));
  return { updates, weights };
}

function run(strategy: Strategy, round: number, x: Float32Array, r: ReturnType<typeof roundOf>) {
  const aggregation = strategy.beginRound(round, x);
  r.updates.forEach((params, i) => {
    aggregation.add({ clientId: `c${i}`, numExamples: r.weights[i]!, params, metrics: {} });
  });
  const { params } = aggregation.finish();
  aggregation.dispose();
  return params;
}

describe.each(cases)('%s', (name, options, make) => {
  it('follows the paper’s update rule in float64 over 6 rounds of random updates', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const rng = createRng(seed);
      const d = 1 + rng.int(3000);
      const strategy = make({ ...options, minFitClients: 1 });
      const step = reference(name, options, d);
      let x: Float32Array = Float32Array.from({ length: d }, () => rng.normal());
      for (let round = 1; round <= 6; round++) {
        const r = roundOf(rng, x, 1 + rng.int(12));
        const total = r.weights.reduce((a, b) => a + b, 0);
        const mean = new Float64Array(d);
        r.updates.forEach((u, i) => {
          for (let j = 0; j < d; j++)
            mean[j] = (mean[j] as number) + (r.weights[i]! * (u[j] as number)) / total;
        });
        const expected = step(Float64Array.from(x), mean);
        const actual = run(strategy, round, x, r);
        let worst = 0;
        for (let j = 0; j < d; j++) {
          const e = expected[j] as number;
          worst = Math.max(worst, Math.abs((actual[j] as number) - e) / Math.max(Math.abs(e), 1e-2));
        }
        expect(worst, `seed ${seed} round ${round}`).toBeLessThan(2e-5);
        // The global model is float32 on the wire: the reference continues from what was sent.
        x = actual;
      }
    }
  });

  it('continues identically after state() is restored into a fresh strategy', () => {
    const rng = createRng(99);
    const d = 257;
    const first = make({ ...options, minFitClients: 1 });
    let x: Float32Array = Float32Array.from({ length: d }, () => rng.normal());
    for (let round = 1; round <= 3; round++) x = run(first, round, x, roundOf(rng, x, 4));
    const saved = first.state();
    expect(saved.round).toBe(3);
    const resumed = make({ ...options, minFitClients: 1 });
    resumed.restore(saved);
    const r = roundOf(rng, x, 5);
    const a = run(first, 4, x, r);
    const b = run(resumed, 4, x, r);
    expect(Array.from(b)).toEqual(Array.from(a));
    // A strategy that lost its moments takes a different step: the state matters.
    const fresh = run(make({ ...options, minFitClients: 1 }), 4, x, r);
    expect(Array.from(fresh)).not.toEqual(Array.from(a));
    // state() is a copy: the saved moments did not move with round 4.
    expect(resumed.state().tensors).not.toEqual(saved.tensors);
  });

  it('refuses a malformed state and a model of another size', () => {
    const strategy = make({ ...options, minFitClients: 1 });
    const x = new Float32Array(8);
    run(strategy, 1, x, roundOf(createRng(3), x, 2));
    const saved = strategy.state();
    const key = Object.keys(saved.tensors)[0]!;
    const broken = { ...saved, tensors: { ...saved.tensors, [key]: Float64Array.of(Number.NaN) } };
    expect(() => make({ ...options }).restore(broken)).toThrow(FedlearnError);
    expect(() => strategy.beginRound(2, new Float32Array(9))).toThrow(FedlearnError);
  });
});
