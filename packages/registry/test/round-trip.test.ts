import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModelArtifacts } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLifecycleConfig } from '../src/config.js';
import { createModelLifecycle } from '../src/lifecycle.js';
import { startMlflowStandIn } from '../src/testing/index.js';
import { job, partitions, recordingDelay } from './fixtures.js';

/** A dense model with its normalisation inside (a Rescaling layer), seeded weights. */
function buildModel(seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.rescaling({ inputShape: [4], scale: 1 / 255, offset: -0.5 }));
  model.add(
    tfl.layers.dense({
      units: 8,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(
    tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return model;
}

async function toArtifacts(model: tfl.LayersModel): Promise<LayersModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const data = saved!.weightData!;
  const bytes = Array.isArray(data)
    ? new Uint8Array(await new Blob(data).arrayBuffer())
    : new Uint8Array(data as ArrayBuffer);
  return {
    modelTopology: saved!.modelTopology as Record<string, unknown>,
    weightSpecs: saved!.weightSpecs as LayersModelArtifacts['weightSpecs'],
    weightData: bytes,
    generatedBy: saved!.generatedBy ?? 'tfjs',
    convertedBy: null,
  };
}

async function fromArtifacts(artifacts: LayersModelArtifacts): Promise<tfl.LayersModel> {
  const w = artifacts.weightData;
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightSpecs,
      weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
    }),
  );
}

const testSet = tf.tensor2d(
  Array.from({ length: 20 * 4 }, (_, i) => (i * 37) % 256),
  [20, 4],
);

let home: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  home = await mkdtemp(join(tmpdir(), 'fedlearn-round-trip-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('models:/<name>@champion loads back a model that predicts exactly like the in-memory one', () => {
  const cases = [
    { label: 'local registry', start: async () => ({ env: {}, close: async () => {} }) },
    {
      label: 'MLflow (in-process REST stand-in, artifact proxy)',
      start: async () => {
        const mlflow = await startMlflowStandIn({ proxyArtifacts: true });
        return { env: { MLFLOW_TRACKING_URI: mlflow.url }, close: () => mlflow.close() };
      },
    },
  ];
  for (const c of cases) {
    it(c.label, async () => {
      const backend = await c.start();
      const lifecycle = createModelLifecycle(
        resolveLifecycleConfig(backend.env, { home: join(home, c.label.split(' ')[0]!) }),
        {
          delay: recordingDelay().delay,
        },
      );
      try {
        const model = buildModel(7);
        const run = await lifecycle.startRun(job({ modelName: 'iris-mlp' }));
        await run.logRoundMetrics(1, { accuracy: 0.9 });
        const { version } = await run.registerVersion(await toArtifacts(model), {
          round: 1,
          metrics: { accuracy: 0.9 },
          dataPartitions: partitions,
        });
        await run.finish();
        expect(version.aliases).toContain('champion');

        const loaded = await lifecycle.loadModel('models:/iris-mlp@champion');
        expect(loaded.version.version).toBe(version.version);
        expect(loaded.mlmodel.tfjs.preprocessing).toContain('Rescaling');
        expect(loaded.mlmodel.signature.inputs[0]!.shape).toEqual([-1, 4]);
        const restored = await fromArtifacts(loaded.artifacts);
        const expected = (model.predict(testSet) as tf.Tensor).arraySync();
        const actual = (restored.predict(testSet) as tf.Tensor).arraySync();
        expect(actual).toEqual(expected);
        const byNumber = await lifecycle.loadModel(`models:/iris-mlp/${version.version}`);
        expect(byNumber.artifacts.weightData).toEqual(loaded.artifacts.weightData);
      } finally {
        await lifecycle.close();
        await backend.close();
      }
    });
  }
});
