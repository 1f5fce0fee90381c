import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, encodeParams, type Trainer } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { startMlflowStandIn } from '@fedlearn/registry/testing';
import { describe, expect, it } from 'vitest';
import type { ServerEvaluator } from '../src/events.js';
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
    name: 'tiny',
    layers: [{ class_name: 'Dense', config: { name: 'd', units: 1, batch_input_shape: [null, 3] } }],
  },
};

/** Accuracy goes up for two rounds and down in the third, so the policy must not promote round 3. */
function scoredTrainer(delta: number, accuracies: number[]): Trainer {
  let call = 0;
  return {
    ...arithmeticTrainer(delta, 10),
    dataFingerprint: { sha256: String(delta).repeat(64).slice(0, 64), examples: 10 },
    evaluate: async () => ({ numExamples: 5, loss: 1, metrics: { accuracy: accuracies[call++] ?? 0 } }),
  };
}

async function runJob(
  lifecycleEnv: Record<string, string | undefined>,
  evaluator?: ServerEvaluator,
  extraSpec: Record<string, unknown> = {},
) {
  const home = mkdtempSync(join(tmpdir(), 'fedlearn-home-'));
  const lifecycle = createModelLifecycle(resolveLifecycleConfig(lifecycleEnv, { cwd: home, home }), {
    delay: async () => {},
  });
  const { coordinator } = await startCoordinator({
    lifecycle,
    privacyRng: createRng(1),
    ...(evaluator ? { evaluator } : {}),
  });
  cleanups.push(async () => {
    await coordinator.stop();
    await lifecycle.close();
  });
  const accuracies = [0.5, 0.7, 0.6];
  const clients = [1, 2].map((d) => new TestClient(coordinator.url, `c${d}`, scoredTrainer(d, accuracies)));
  cleanups.push(() => closeAll(clients));
  const job = await coordinator.submitJob({
    name: 'tiny',
    rounds: 3,
    strategy: { minFitClients: 2 },
    model: { params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64'), topology: TOPOLOGY },
    ...extraSpec,
  });
  const done = await coordinator.waitForJob(job.id);
  return { done, lifecycle };
}

describe('model lifecycle in a job', () => {
  it('registers every round in the local registry; the policy moves champion only on improvement', async () => {
    const { done, lifecycle } = await runJob({});
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.model?.version, r.model?.promoted])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    const champion = await lifecycle.registry.getVersionByAlias('tiny', 'champion');
    const challenger = await lifecycle.registry.getVersionByAlias('tiny', 'challenger');
    expect([champion.version, challenger.version]).toEqual([2, 3]);
    expect(champion.metrics.accuracy).toBeCloseTo(0.7, 6);
    // What the registry serves is byte for byte the coordinator's round-2 model.
    const loaded = await lifecycle.loadModel('models:/tiny@champion');
    const checkpoint = readFileSync(join(done.rounds[1]!.checkpoint!, 'group1-shard1of1.bin'));
    expect(Buffer.from(loaded.artifacts.weightData).equals(checkpoint)).toBe(true);
    const audit = await lifecycle.registry.auditLog('tiny');
    expect(audit.filter((m) => m.alias === 'champion').map((m) => m.version)).toEqual([1, 2]);
    // Lineage: the job, its round, the strategy and each contributing client's data fingerprint.
    expect(loaded.mlmodel.fedlearn).toMatchObject({
      jobId: done.id,
      round: 2,
      strategy: 'fedavg',
      secureAggregation: false,
    });
    expect(loaded.mlmodel.fedlearn.dataPartitions.fingerprints.map((f) => f.clientId).sort()).toEqual([
      'c1',
      'c2',
    ]);
    expect(loaded.mlmodel.fedlearn.dataPartitions.totalExamples).toBe(20);
    // Federated evaluation only: the card says the metrics are the clients' own reports.
    expect(loaded.mlmodel.fedlearn.metricSources).toEqual({
      accuracy: 'clients-held-out',
      loss: 'clients-held-out',
    });
    expect(loaded.mlmodel.fedlearn.differentialPrivacy).toBe('none');
  });

  it('with a server-side test set, the card names it as the source of the headline metrics', async () => {
    const evaluator: ServerEvaluator = async (_params, round) => ({
      loss: 1 / round,
      accuracy: 0.5 + round / 10,
    });
    const { done, lifecycle } = await runJob({}, evaluator);
    expect(done.status).toBe('completed');
    const latest = await lifecycle.loadModel('models:/tiny/3');
    expect(latest.mlmodel.fedlearn.metrics).toMatchObject({
      accuracy: 0.8,
      loss: 1 / 3,
      federated_accuracy: 0.6,
    });
    expect(latest.mlmodel.fedlearn.metricSources).toEqual({
      accuracy: 'server-test-set',
      loss: 'server-test-set',
      federated_accuracy: 'clients-held-out',
      federated_loss: 'clients-held-out',
    });
    const card = new TextDecoder().decode((await lifecycle.registry.getFiles('tiny', 3)).get('README.md'));
    expect(card).toContain('- accuracy: 0.8 (on the coordinator’s server-side test set)');
    expect(card).toContain('- federated_accuracy: 0.6 (on the clients’ held-out data');
    // The server's test set decides promotion: 0.6, 0.7, 0.8 improve every round.
    expect(done.rounds.map((r) => r.model?.promoted)).toEqual([true, true, true]);
  });

  it('with MLFLOW_TRACKING_URI logs one run with per-round metrics and registers every round (stand-in for MLflow)', async () => {
    const mlflow = await startMlflowStandIn({ proxyArtifacts: true });
    cleanups.push(() => mlflow.close());
    const { done, lifecycle } = await runJob({ MLFLOW_TRACKING_URI: mlflow.url });
    expect(done.status).toBe('completed');
    const runs = [...mlflow.state.runs.values()];
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.info.status).toBe('FINISHED');
    expect(done.runId).toBe(run.info.run_id);
    for (const key of ['accuracy', 'loss', 'participants', 'dropped', 'bytes_up', 'bytes_down', 'seconds']) {
      expect(
        run.metrics.filter((m) => m.key === key).map((m) => m.step),
        key,
      ).toEqual([1, 2, 3]);
    }
    expect(run.params.find((p) => p.key === 'strategy')?.value).toBe('fedavg');
    // No differential privacy exists: the run says so, and has no privacy field suggesting otherwise.
    expect(run.params.find((p) => p.key === 'differential_privacy')?.value).toBe('none');
    expect(run.params.some((p) => p.key.startsWith('privacy'))).toBe(false);
    const model = mlflow.state.registeredModels.get('tiny')!;
    expect(model.versions.map((v) => [v.version, v.run_id])).toEqual([
      ['1', run.info.run_id],
      ['2', run.info.run_id],
      ['3', run.info.run_id],
    ]);
    expect(Object.fromEntries(model.aliases)).toEqual({ champion: '2', challenger: '3' });
    const loaded = await lifecycle.loadModel('models:/tiny@champion');
    const checkpoint = readFileSync(join(done.rounds[1]!.checkpoint!, 'group1-shard1of1.bin'));
    expect(Buffer.from(loaded.artifacts.weightData).equals(checkpoint)).toBe(true);
  });

  it('a private job logs ε per round and DP params to MLflow, and each version carries its (ε, δ)', async () => {
    const mlflow = await startMlflowStandIn({ proxyArtifacts: true });
    cleanups.push(() => mlflow.close());
    const privacy = { mode: 'central', noiseMultiplier: 2, clipNorm: 0.5, delta: 1e-5, targetEpsilon: 10 };
    const { done, lifecycle } = await runJob({ MLFLOW_TRACKING_URI: mlflow.url }, undefined, { privacy });
    expect(done.status).toBe('completed');
    const run = [...mlflow.state.runs.values()][0]!;
    const epsilons = run.metrics.filter((m) => m.key === 'epsilon');
    expect(epsilons.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(epsilons.map((m) => m.value)).toEqual(done.rounds.map((r) => r.privacy?.epsilon));
    const param = (key: string) => run.params.find((p) => p.key === key)?.value;
    expect([param('differential_privacy'), param('dp_noise_multiplier'), param('dp_clip_norm')]).toEqual([
      'central',
      '2',
      '0.5',
    ]);
    expect(param('dp_target_epsilon')).toBe('10');
    const version = await lifecycle.loadModel('models:/tiny/3');
    expect(version.mlmodel.fedlearn.differentialPrivacy).toEqual({
      mode: 'central',
      epsilon: done.rounds[2]?.privacy?.epsilon,
      delta: 1e-5,
      noiseMultiplier: 2,
      clipNorm: 0.5,
      samplingRate: 1,
      rounds: 3,
    });
  });
});
