import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFedlearnError, ManualClock } from '@fedlearn/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveLifecycleConfig } from '../src/config.js';
import { createModelLifecycle } from '../src/lifecycle.js';
import { LocalRunLog } from '../src/local/local-runs.js';
import { startMlflowStandIn } from '../src/testing/index.js';
import { job, partitions, recordingDelay, tinyArtifacts } from './fixtures.js';

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fedlearn-lifecycle-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('model lifecycle, embedded default (no server)', () => {
  it('logs a run, registers versions as challenger, promotes by policy and keeps lineage', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const config = resolveLifecycleConfig({}, { cwd, promotion: { minDelta: 0.05 } });
    const lifecycle = createModelLifecycle(config, { clock });
    const run = await lifecycle.startRun(job());
    await run.logRoundMetrics(1, { accuracy: 0.6, loss: 1 });
    const v1 = await run.registerVersion(tinyArtifacts(1), {
      round: 1,
      metrics: { accuracy: 0.6 },
      dataPartitions: partitions,
    });
    await run.logRoundMetrics(2, { accuracy: 0.63 });
    const v2 = await run.registerVersion(tinyArtifacts(2), {
      round: 2,
      metrics: { accuracy: 0.63 },
      dataPartitions: partitions,
    });
    await run.logRoundMetrics(3, { accuracy: 0.7 });
    const v3 = await run.registerVersion(tinyArtifacts(3), {
      round: 3,
      metrics: { accuracy: 0.7 },
      dataPartitions: partitions,
    });
    await run.finish('FINISHED');

    expect([v1.promotion.promote, v2.promotion.promote, v3.promotion.promote]).toEqual([true, false, true]);
    expect(v2.promotion.reason).toContain('not better');
    expect(v3.version.aliases).toEqual(['challenger', 'champion']);
    expect(v3.version.tags).toMatchObject({ 'fedlearn.code_version': 'abc123', 'fedlearn.partitions': '2' });

    // everything under ./.fedlearn of the working directory
    const versionDir = join(cwd, '.fedlearn', 'registry', 'tiny', 'versions', '3');
    expect((await readdir(versionDir)).sort()).toEqual([
      'MLmodel',
      'README.md',
      'fedlearn-manifest.json',
      'group1-shard1of1.bin',
      'model.json',
      'version.json',
    ]);
    const card = await readFile(join(versionDir, 'README.md'), 'utf8');
    expect(card).toContain('| 3 | 0.7 |');

    const runs = await new LocalRunLog(join(cwd, '.fedlearn')).get(run.runId);
    expect(runs.run).toMatchObject({
      status: 'FINISHED',
      params: { strategy: 'fedavg', secure_aggregation: 'true' },
    });
    expect(runs.metrics.filter((m) => m.key === 'accuracy').map((m) => m.step)).toEqual([1, 2, 3]);

    const audit = await lifecycle.registry.auditLog('tiny');
    expect(audit.map((m) => `${m.alias}:${m.previous}->${m.version}`)).toEqual([
      'challenger:null->1',
      'champion:null->1',
      'challenger:1->2',
      'challenger:2->3',
      'champion:1->3',
    ]);
    const loaded = await lifecycle.loadModel('models:/tiny@champion');
    expect(loaded.mlmodel.fedlearn.dataPartitions.fingerprints).toEqual(partitions);
    expect(loaded.mlmodel.runId).toBe(run.runId);
    await lifecycle.close();
  });

  it('refuses bad job input with typed errors', async () => {
    const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { cwd }));
    expect(
      isFedlearnError(
        await lifecycle.startRun(job({ modelName: 'a/b' })).catch((e) => e),
        'INVALID_ARGUMENT',
      ),
    ).toBe(true);
    const run = await lifecycle.startRun(job());
    expect(isFedlearnError(await run.logRoundMetrics(-1, {}).catch((e) => e), 'INVALID_ARGUMENT')).toBe(true);
    const badKey = await run.logRoundMetrics(1, { 'val:acc': 1 }).catch((e) => e);
    expect(isFedlearnError(badKey, 'INVALID_ARGUMENT')).toBe(true);
    const broken = { ...tinyArtifacts(), weightData: new Uint8Array(3) };
    expect(
      isFedlearnError(
        await run.registerVersion(broken, { round: 1, metrics: {} }).catch((e) => e),
        'MODEL_FORMAT_INVALID',
      ),
    ).toBe(true);
    expect(
      isFedlearnError(await lifecycle.loadModel('models:/tiny').catch((e) => e), 'INVALID_ARGUMENT'),
    ).toBe(true);
  });
});

it('detects a proxied MLflow artifact changed after registration (checksum)', async () => {
  const mlflow = await startMlflowStandIn();
  const lifecycle = createModelLifecycle(
    resolveLifecycleConfig({ MLFLOW_TRACKING_URI: mlflow.url }, { cwd }),
    {
      delay: recordingDelay().delay,
    },
  );
  try {
    const run = await lifecycle.startRun(job());
    await run.registerVersion(tinyArtifacts(), { round: 1, metrics: { accuracy: 1 } });
    const weights = [...mlflow.state.artifacts.keys()].find((k) => k.endsWith('group1-shard1of1.bin'))!;
    mlflow.state.artifacts.set(weights, new Uint8Array(40));
    const error = await lifecycle.loadModel('models:/tiny@champion').catch((e) => e);
    expect(isFedlearnError(error, 'ARTIFACT_CHECKSUM_MISMATCH')).toBe(true);
  } finally {
    await lifecycle.close();
    await mlflow.close();
  }
});

describe('resuming a run after a coordinator restart', () => {
  const scenario = async (env: Record<string, string>) => {
    const config = resolveLifecycleConfig(env, { cwd });
    const before = createModelLifecycle(config, { delay: recordingDelay().delay });
    const run = await before.startRun(job());
    await run.logRoundMetrics(1, { accuracy: 0.5 });
    await run.logRoundMetrics(2, { accuracy: 0.6, loss: 0.4 });
    await before.close(); // the coordinator dies here

    const after = createModelLifecycle(config, { delay: recordingDelay().delay });
    const resumed = await after.startRun(job(), { resumeRunId: run.runId });
    expect(resumed.runId).toBe(run.runId);
    await resumed.logRoundMetrics(3, { accuracy: 0.7 });
    const { version } = await resumed.registerVersion(tinyArtifacts(), {
      round: 3,
      metrics: { accuracy: 0.7 },
    });
    await resumed.finish();
    const card = new TextDecoder().decode(
      (await after.registry.getFiles('tiny', version.version)).get('README.md'),
    );
    expect(card).toContain('| 1 | 0.5 |  |');
    expect(card).toContain('| 2 | 0.6 | 0.4 |');
    expect(card).toContain('| 3 | 0.7 |  |');
    const missing = await after.startRun(job(), { resumeRunId: 'f'.repeat(32) }).catch((e) => e);
    expect(isFedlearnError(missing, 'REGISTRY_NOT_FOUND')).toBe(true);
    await after.close();
  };

  it('local run log', () => scenario({}));

  it('MLflow (in-process REST stand-in): metric history is read back with metrics/get-history', async () => {
    const mlflow = await startMlflowStandIn();
    try {
      await scenario({ MLFLOW_TRACKING_URI: mlflow.url });
      expect(mlflow.requests.filter((r) => r.path.endsWith('/runs/create'))).toHaveLength(1);
    } finally {
      await mlflow.close();
    }
  });
});
