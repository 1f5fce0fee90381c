import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ModelParams } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { Coordinator } from '@fedlearn/server';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClientFleet, spawnClients } from '../src/client-fleet.js';
import { loadMnist } from '../src/mnist.js';
import { buildMnistMlp, toTensors } from '../src/mnist-model.js';

const BIN = resolve(import.meta.dirname, '../dist/bin.js');
const TOKEN = 'roundtrip-client-token-0123456789';

describe('the registered champion (real clients, local registry)', () => {
  let fleet: ClientFleet | undefined;
  let coordinator: Coordinator | undefined;
  afterAll(async () => {
    await fleet?.stop();
    await coordinator?.stop();
  });

  it('loads back from models:/mnist-mlp@champion and predicts exactly as the coordinator’s in-memory model', async () => {
    await tf.setBackend('cpu');
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-roundtrip-'));
    const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { cwd: home, home }));
    const test = toTensors(loadMnist().test);
    const evalModel = buildMnistMlp(3);
    evalModel.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    // The coordinator's in-memory global model of each round, as handed to the server-side evaluator.
    const inMemory = new Map<number, ModelParams>();
    coordinator = await Coordinator.start({
      port: 0,
      apiToken: 'roundtrip-api-token-0123456789',
      clientToken: TOKEN,
      checkpointDir: join(home, 'checkpoints'),
      logger: pino({ level: 'silent' }),
      lifecycle,
      evaluator: async (params, round) => {
        inMemory.set(
          round,
          params.map((p) => ({ ...p, values: p.values.slice() })),
        );
        evalModel.setWeights(params.map((p) => tf.tensor(p.values, p.shape)));
        const [loss, accuracy] = (evalModel.evaluate(test.x, test.y) as tf.Scalar[]).map(
          (s) => s.dataSync()[0]!,
        );
        return { loss: loss!, accuracy: accuracy! };
      },
    });
    const c = coordinator;
    fleet = spawnClients({
      binPath: BIN,
      count: 2,
      serverUrl: c.url,
      token: TOKEN,
      args: ['--clients', '2', '--seed', '3', '--backend', 'wasm'],
      logFile: join(home, 'clients.log'),
    });
    const job = await c.submitJob({
      name: 'mnist-mlp',
      rounds: 2,
      seed: 3,
      fit: { localEpochs: 1, batchSize: 64, learningRate: 0.1 },
      federatedEvaluation: false,
      strategy: { minFitClients: 2 },
    });
    const done = await c.waitForJob(job.id);
    expect(done.status).toBe('completed');

    const champion = await lifecycle.registry.getVersionByAlias('mnist-mlp', 'champion');
    const loaded = await lifecycle.loadModel('models:/mnist-mlp@champion');
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory(loaded.artifacts as unknown as tf.io.ModelArtifacts),
    );
    const reference = buildMnistMlp(3);
    reference.setWeights(inMemory.get(champion.round!)!.map((p) => tf.tensor(p.values, p.shape)));
    const served = (model.predict(test.x) as tf.Tensor).dataSync();
    const expected = (reference.predict(test.x) as tf.Tensor).dataSync();
    expect(served.length).toBe(test.x.shape[0] * 10);
    expect(Array.from(served)).toEqual(Array.from(expected));
    await lifecycle.close();
  });
});
