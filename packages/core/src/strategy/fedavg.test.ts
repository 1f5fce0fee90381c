import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { createRng } from '../random.js';
import { FedAvg } from './fedavg.js';
import { weightedEvaluation } from './sampled-strategy.js';
import type { ClientInfo } from './types.js';

const clients = (n: number): ClientInfo[] =>
  Array.from({ length: n }, (_, i) => ({
    clientId: `c${i}`,
    numExamples: 10,
    numEvalExamples: i % 2,
    capabilities: { secagg: false, backend: 'cpu' },
  }));

describe('FedAvg', () => {
  for (const kernel of ['auto', 'js'] as const) {
    it(`equals a float64 reference to 1e-6 relative error on random inputs (${kernel} kernel)`, () => {
      for (let seed = 1; seed <= 25; seed++) {
        const rng = createRng(seed);
        const n = 1 + rng.int(30);
        const d = 1 + rng.int(5000);
        const updates = Array.from({ length: n }, () =>
          Float32Array.from({ length: d }, () => rng.normal() * 3),
        );
        const weights = Array.from({ length: n }, () => 1 + rng.int(2000));
        const round = new FedAvg({ minFitClients: 1, kernel }).beginRound(1, new Float32Array(d));
        for (const [i, params] of updates.entries()) {
          round.add({ clientId: `c${i}`, numExamples: weights[i]!, params, metrics: { loss: i } });
        }
        const { params, metrics } = round.finish();
        round.dispose();
        const total = weights.reduce((a, b) => a + b, 0);
        let worst = 0;
        for (let j = 0; j < d; j++) {
          let reference = 0;
          for (let i = 0; i < n; i++) reference += weights[i]! * updates[i]![j]!;
          reference /= total;
          const error = Math.abs(params[j]! - reference) / Math.max(Math.abs(reference), 1e-3);
          worst = Math.max(worst, error);
        }
        expect(worst).toBeLessThan(1e-6);
        const referenceLoss = weights.reduce((acc, w, i) => acc + w * i, 0) / total;
        expect(metrics.loss).toBeCloseTo(referenceLoss, 9);
      }
    });
  }

  it('starts every round from zero when it reuses its accumulator', () => {
    const strategy = new FedAvg({ minFitClients: 1 });
    const first = strategy.beginRound(1, new Float32Array(3));
    first.add({ clientId: 'a', numExamples: 5, params: Float32Array.of(9, 9, 9), metrics: {} });
    first.finish();
    first.dispose();
    const second = strategy.beginRound(2, new Float32Array(3));
    second.add({ clientId: 'a', numExamples: 1, params: Float32Array.of(1, 2, 3), metrics: {} });
    expect(Array.from(second.finish().params)).toEqual([1, 2, 3]);
    second.dispose();
    const wider = strategy.beginRound(3, new Float32Array(4));
    wider.add({ clientId: 'a', numExamples: 1, params: Float32Array.of(1, 2, 3, 4), metrics: {} });
    expect(Array.from(wider.finish().params)).toEqual([1, 2, 3, 4]);
  });

  it('refuses an update of the wrong length', () => {
    const round = new FedAvg({ minFitClients: 1 }).beginRound(1, new Float32Array(4));
    expect(() =>
      round.add({ clientId: 'x', numExamples: 1, params: new Float32Array(3), metrics: {} }),
    ).toThrow(FedlearnError);
    expect(() => round.finish()).toThrow(/AGGREGATION_EMPTY|nothing|no update/i);
  });

  it('samples deterministically, independent of connection order', () => {
    const strategy = new FedAvg({ fractionFit: 0.3, minFitClients: 2 });
    const a = strategy.configureFit(1, clients(10), createRng(5));
    const b = strategy.configureFit(1, clients(10).reverse(), createRng(5));
    expect(a).toEqual(b);
    expect(a.length).toBe(3);
    expect(new Set(a).size).toBe(3);
    expect(strategy.configureFit(1, clients(10), createRng(6))).not.toEqual(a);
  });

  it('samples at least the minimum and never more than are available', () => {
    const strategy = new FedAvg({ fractionFit: 0.1, minFitClients: 4 });
    expect(strategy.configureFit(1, clients(10), createRng(1)).length).toBe(4);
    expect(strategy.configureFit(1, clients(3), createRng(1)).length).toBe(3);
  });

  it('evaluates only clients that hold evaluation data', () => {
    const picked = new FedAvg().configureEvaluate(1, clients(10), createRng(2));
    expect(picked.length).toBe(5);
    for (const id of picked) expect(Number(id.slice(1)) % 2).toBe(1);
  });

  it('refuses bad configuration', () => {
    expect(() => new FedAvg({ fractionFit: 0 })).toThrow(FedlearnError);
    expect(() => new FedAvg({ minFitClients: 0 })).toThrow(FedlearnError);
    expect(() => new FedAvg({ minFitClients: 5, minAvailableClients: 2 })).toThrow(FedlearnError);
  });
});

describe('weightedEvaluation', () => {
  it('weights loss and metrics by examples', () => {
    const result = weightedEvaluation([
      { clientId: 'a', numExamples: 1, loss: 1, metrics: { accuracy: 0 } },
      { clientId: 'b', numExamples: 3, loss: 3, metrics: { accuracy: 1 } },
    ]);
    expect(result).toEqual({ loss: 2.5, numExamples: 4, metrics: { accuracy: 0.75 } });
    expect(weightedEvaluation([])).toBeUndefined();
  });
});
