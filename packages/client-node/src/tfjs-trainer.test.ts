import { createRng, FedlearnError, flattenParams } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import { fingerprint, readWeights, TfjsTrainer } from './tfjs-trainer.js';

function model(seed: number) {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'out',
        inputShape: [2],
        units: 2,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
    ],
  });
}

const data = () => ({
  x: tf.tensor2d([
    [0, 1],
    [1, 0],
    [1, 1],
    [0, 0],
  ]),
  y: tf.tensor2d([
    [1, 0],
    [0, 1],
    [0, 1],
    [1, 0],
  ]),
});

/**
 * Two seeded Gaussian blobs around (1, 1) and (−1, −1), classes 0 and 1 one-hot: separable by a
 * line, so a trained softmax layer gets nearly all of them right and an untrained one about half.
 */
function blobs(seed: number, count: number) {
  const rng = createRng(seed);
  const x: number[][] = [];
  const y: number[][] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const centre = label === 0 ? 1 : -1;
    x.push([centre + 0.4 * rng.normal(), centre + 0.4 * rng.normal()]);
    y.push(label === 0 ? [1, 0] : [0, 1]);
  }
  return { x: tf.tensor2d(x), y: tf.tensor2d(y) };
}

describe('TfjsTrainer', () => {
  beforeAll(async () => {
    expect(await selectBackend('cpu')).toBe('cpu');
  });

  it('trains from the given weights, reproducibly for a seed', async () => {
    const config = { localEpochs: 3, batchSize: 2, learningRate: 0.5, seed: 7 };
    const a = new TfjsTrainer({ model: model(1), train: data(), evaluation: data() });
    const start = await readWeights(model(2));
    const first = await a.fit(start, config);
    const second = await a.fit(start, config);
    expect(flattenParams(first.params)).toEqual(flattenParams(second.params));
    expect(flattenParams(first.params)).not.toEqual(flattenParams(start));
    expect(first.numExamples).toBe(4);
    expect(Number.isFinite(first.metrics.loss)).toBe(true);
    const evaluation = await a.evaluate(first.params, { batchSize: 4 });
    expect(evaluation.numExamples).toBe(4);
  });

  it('learns a seeded separable problem: held-out accuracy from chance to above 95 %', async () => {
    const train = blobs(1, 400);
    const heldOut = blobs(2, 200);
    const trainer = new TfjsTrainer({ model: model(3), train, evaluation: heldOut });
    const start = await readWeights(model(3));
    const before = await trainer.evaluate(start, { batchSize: 50 });
    const { params } = await trainer.fit(start, {
      localEpochs: 5,
      batchSize: 20,
      learningRate: 0.5,
      seed: 4,
    });
    const after = await trainer.evaluate(params, { batchSize: 50 });
    expect(after.numExamples).toBe(200);
    expect(after.metrics.accuracy).toBeGreaterThan(0.95);
    expect(after.metrics.accuracy).toBeGreaterThan(before.metrics.accuracy! + 0.2);
    expect(after.loss).toBeLessThan(before.loss / 2);
    // Evaluation scores the weights it is given, not whatever the model last held.
    expect(await trainer.evaluate(start, { batchSize: 50 })).toEqual(before);
  });

  it('names and shapes its weights, and exports its topology', async () => {
    const trainer = new TfjsTrainer({ model: model(1), train: data() });
    // The names model.json uses, stable however many models this process has built before.
    expect(trainer.specs()).toEqual([
      { name: 'out/kernel', shape: [2, 2] },
      { name: 'out/bias', shape: [2] },
    ]);
    const { modelTopology } = await trainer.getParameters();
    expect(modelTopology.class_name).toBe('Sequential');
  });

  it('refuses mismatched data and evaluation without data', async () => {
    expect(
      () => new TfjsTrainer({ model: model(1), train: { x: tf.zeros([3, 2]), y: tf.zeros([2, 2]) } }),
    ).toThrow(FedlearnError);
    const trainer = new TfjsTrainer({ model: model(1), train: data() });
    await expect(trainer.evaluate(await readWeights(model(1)), { batchSize: 2 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('reports a diverged run as TRAINING_FAILED', async () => {
    const trainer = new TfjsTrainer({ model: model(1), train: data(), loss: 'meanSquaredError' });
    const huge = (await readWeights(model(1))).map((p) => ({ ...p, values: p.values.map(() => 3e38) }));
    await expect(
      trainer.fit(huge, { localEpochs: 1, batchSize: 4, learningRate: 10, seed: 1 }),
    ).rejects.toMatchObject({ code: 'TRAINING_FAILED' });
  });

  it('fingerprints data by content: same data, same hash; one value changed, another hash', () => {
    const a = fingerprint(data());
    expect(a).toEqual(fingerprint(data()));
    expect(a.examples).toBe(4);
    const other = data();
    expect(fingerprint({ x: tf.add(other.x, tf.scalar(1e-3)), y: other.y }).sha256).not.toBe(a.sha256);
  });
});
