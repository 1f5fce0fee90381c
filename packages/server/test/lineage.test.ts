import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeParams, FedlearnError, type Trainer } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { describe, expect, it } from 'vitest';
import {
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  params,
  startCoordinator,
  TestClient,
} from './harness.js';

const cleanups = cleanupAfterEach();

const TOPOLOGY = {
  class_name: 'Sequential',
  config: {
    name: 'lineage',
    layers: [{ class_name: 'Dense', config: { name: 'd', units: 1, batch_input_shape: [null, 3] } }],
  },
};

/** A client whose training fails in the rounds listed (its n-th fit is round n: it is sampled every round). */
function failingIn(delta: number, rounds: number[]): Trainer {
  let round = 0;
  const base = arithmeticTrainer(delta, 10);
  return {
    ...base,
    dataFingerprint: { sha256: String(delta).repeat(64).slice(0, 64), examples: 10 },
    fit: async (global, config) => {
      round++;
      if (rounds.includes(round)) throw new FedlearnError('TRAINING_FAILED', `fails in round ${round}`);
      return base.fit(global, config);
    },
  };
}

describe('model lineage', () => {
  it("counts only clients whose update made it into a completed round, not a failed round's", async () => {
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-lineage-'));
    const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { cwd: home, home }), {
      delay: async () => {},
    });
    const { coordinator } = await startCoordinator({ lifecycle });
    cleanups.push(async () => {
      await coordinator.stop();
      await lifecycle.close();
    });
    // Round 1: only c1 trains, below the quorum of 2, so the round fails. Round 2: c2 and c3 do.
    const clients = [
      new TestClient(coordinator.url, 'c1', failingIn(1, [2])),
      new TestClient(coordinator.url, 'c2', failingIn(2, [1])),
      new TestClient(coordinator.url, 'c3', failingIn(3, [1])),
    ];
    cleanups.push(() => closeAll(clients));
    const job = await coordinator.submitJob({
      name: 'lineage',
      rounds: 2,
      federatedEvaluation: false,
      strategy: { minFitClients: 2, minAvailableClients: 3 },
      model: {
        params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64'),
        topology: TOPOLOGY,
      },
    });
    const done = await coordinator.waitForJob(job.id);
    expect(done.rounds.map((r) => [r.status, r.completed])).toEqual([
      ['failed', 1],
      ['ok', 2],
    ]);
    const model = await lifecycle.loadModel('models:/lineage/1');
    expect(model.mlmodel.fedlearn.dataPartitions.fingerprints.map((f) => f.clientId).sort()).toEqual([
      'c2',
      'c3',
    ]);
  });
});
