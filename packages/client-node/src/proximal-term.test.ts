import { flattenParams } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import { readWeights, TfjsTrainer } from './tfjs-trainer.js';

const X = [
  [0.5, -1, 2],
  [1, 0.25, -0.5],
  [-1.5, 1, 0],
  [0.75, 2, 1],
];
const Y = [
  [1, 0],
  [0, 2],
  [-1, 1],
  [2, -0.5],
];

const linear = () =>
  tfl.sequential({
    layers: [tfl.layers.dense({ name: 'lin', inputShape: [3], units: 2, kernelInitializer: 'zeros' })],
  });

/**
 * Full-batch SGD on MSE(XW + b, Y) + μ/2·‖(W, b) − (W0, b0)‖², in float64, from the equations:
 * ∇W = 2/(B·O)·Xᵀ(XW + b − Y) + μ(W − W0), ∇b = 2/(B·O)·Σ_rows(XW + b − Y) + μ(b − b0).
 */
function reference(w0: number[][], b0: number[], lr: number, mu: number, steps: number) {
  const W = w0.map((r) => [...r]);
  const b = [...b0];
  const scale = 2 / (X.length * b.length);
  for (let t = 0; t < steps; t++) {
    const residual = X.map((x, n) =>
      b.map((bo, o) => x.reduce((s, xi, i) => s + xi * W[i]![o]!, bo) - Y[n]![o]!),
    );
    const gW = W.map((row, i) =>
      row.map((_, o) => scale * X.reduce((s, x, n) => s + x[i]! * residual[n]![o]!, 0)),
    );
    const gb = b.map((_, o) => scale * residual.reduce((s, r) => s + r[o]!, 0));
    W.forEach((row, i) => {
      row.forEach((w, o) => {
        row[o] = w - lr * (gW[i]![o]! + mu * (w - w0[i]![o]!));
      });
    });
    b.forEach((v, o) => {
      b[o] = v - lr * (gb[o]! + mu * (v - b0[o]!));
    });
  }
  return [...W.flat(), ...b];
}

describe('FedProx proximal term in the tfjs trainer', () => {
  beforeAll(async () => {
    expect(await selectBackend('cpu')).toBe('cpu');
  });

  it('is SGD on loss + μ/2·‖w − w_global‖², step for step (float64 reference)', async () => {
    const w0 = [
      [0.3, -0.2],
      [0.1, 0.4],
      [-0.5, 0.2],
    ];
    const b0 = [0.05, -0.1];
    const start = await readWeights(linear());
    start.find((t) => t.name.endsWith('kernel'))!.values.set(w0.flat());
    start.find((t) => t.name.endsWith('bias'))!.values.set(b0);
    const trainer = new TfjsTrainer({
      model: linear(),
      train: { x: tf.tensor2d(X), y: tf.tensor2d(Y) },
      loss: 'meanSquaredError',
    });
    const config = { localEpochs: 4, batchSize: 4, learningRate: 0.1, seed: 3 };
    for (const mu of [0, 0.5, 2]) {
      const { params } = await trainer.fit(start, { ...config, proximalMu: mu });
      const actual = Array.from(flattenParams(params));
      const expected = reference(w0, b0, config.learningRate, mu, config.localEpochs);
      actual.forEach((a, i) => {
        expect(a, `μ=${mu} weight ${i}`).toBeCloseTo(expected[i]!, 5);
      });
    }
    // The term matters: with μ = 2 the weights differ from plain SGD's by more than the tolerance.
    const plain = reference(w0, b0, 0.1, 0, 4);
    const prox = reference(w0, b0, 0.1, 2, 4);
    expect(Math.max(...plain.map((p, i) => Math.abs(p - prox[i]!)))).toBeGreaterThan(1e-3);
  });

  it('leaves no tensors behind', async () => {
    const trainer = new TfjsTrainer({
      model: linear(),
      train: { x: tf.tensor2d(X), y: tf.tensor2d(Y) },
      loss: 'meanSquaredError',
    });
    const start = await readWeights(linear());
    await trainer.fit(start, { localEpochs: 1, batchSize: 2, learningRate: 0.1, seed: 1, proximalMu: 1 });
    const before = tf.memory().numTensors;
    await trainer.fit(start, { localEpochs: 2, batchSize: 2, learningRate: 0.1, seed: 1, proximalMu: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
