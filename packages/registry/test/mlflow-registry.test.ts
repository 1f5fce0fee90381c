import { isFedlearnError, ManualClock } from '@fedlearn/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveLifecycleConfig } from '../src/config.js';
import { createModelLifecycle, type ModelLifecycle } from '../src/lifecycle.js';
import { MlflowHttp } from '../src/mlflow/http.js';
import { MlflowRegistry } from '../src/mlflow/mlflow-registry.js';
import { type MlflowStandIn, startMlflowStandIn } from '../src/testing/index.js';
import { job, partitions, recordingDelay, tinyArtifacts } from './fixtures.js';

let mlflow: MlflowStandIn;
let lifecycle: ModelLifecycle;
let waits: number[];

beforeEach(async () => {
  mlflow = await startMlflowStandIn({ proxyArtifacts: true });
  const recorder = recordingDelay();
  waits = recorder.waits;
  const config = resolveLifecycleConfig(
    { MLFLOW_TRACKING_URI: mlflow.url },
    { cwd: '/tmp/unused', retry: { maxRetries: 3 } },
  );
  lifecycle = createModelLifecycle(config, {
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    delay: recorder.delay,
  });
});

afterEach(async () => {
  await lifecycle.close();
  await mlflow.close();
});

const calls = (m: MlflowStandIn, suffix: string) => m.requests.filter((r) => r.path.endsWith(suffix)).length;

describe('MlflowRegistry against the in-process MLflow REST stand-in', () => {
  it('first run: creates the experiment, the run with params, round metrics, the registered model and version 1', async () => {
    const run = await lifecycle.startRun(job());
    await run.logRoundMetrics(1, { accuracy: 0.6, loss: 0.9 });
    await run.logRoundMetrics(2, { accuracy: 0.7, loss: 0.7 });
    const registered = await run.registerVersion(tinyArtifacts(), {
      round: 2,
      metrics: { accuracy: 0.7 },
      dataPartitions: partitions,
    });
    await run.finish('FINISHED');

    const experiment = mlflow.state.experimentByName('fedlearn');
    const stored = mlflow.state.run(run.runId);
    expect(stored.info.experiment_id).toBe(experiment.experiment_id);
    expect(stored.info.status).toBe('FINISHED');
    expect(Object.fromEntries(stored.params.map((p) => [p.key, p.value]))).toMatchObject({
      strategy: 'fedavg',
      rounds: '3',
      clients: '2',
      secure_aggregation: 'true',
      differential_privacy: 'none',
    });
    expect(stored.metrics.filter((m) => m.key === 'accuracy').map((m) => [m.step, m.value])).toEqual([
      [1, 0.6],
      [2, 0.7],
    ]);
    expect(registered.version.version).toBe(1);
    expect(registered.uri).toBe('models:/tiny/1');
    expect(registered.version.runId).toBe(run.runId);
    expect(registered.version.source).toMatch(
      new RegExp(`^mlflow-artifacts:/${experiment.experiment_id}/${run.runId}/artifacts/model-round-2-`),
    );
    expect(registered.version.aliases).toEqual(['challenger', 'champion']);
    expect(registered.promotion.reason).toMatch(/no champion yet/);
    expect(calls(mlflow, '/experiments/create')).toBe(1);
    expect(calls(mlflow, '/registered-models/create')).toBe(1);
    // every file went through the artifact proxy, manifest included
    const artifactPaths = [...mlflow.state.artifacts.keys()].map((p) => p.split('/').pop());
    expect(artifactPaths.sort()).toEqual([
      'MLmodel',
      'README.md',
      'fedlearn-manifest.json',
      'group1-shard1of1.bin',
      'model.json',
    ]);
    // aliases are read with MLflow's GetModelVersionByAlias: GET registered-models/alias
    const aliasReads = mlflow.requests.filter((r) => r.path.endsWith('/registered-models/alias'));
    expect(aliasReads.some((r) => r.method === 'GET')).toBe(true);
    expect(mlflow.requests.some((r) => r.path.includes('get-by-alias'))).toBe(false);
    // POST bodies always carried JSON
    for (const r of mlflow.requests.filter((q) => q.method === 'POST'))
      expect(r.contentType).toBe('application/json');
  });

  it('second run: experiment and registered model already exist; aliases move by policy and are audited', async () => {
    const first = await lifecycle.startRun(job());
    await first.registerVersion(tinyArtifacts(1), { round: 1, metrics: { accuracy: 0.7 } });
    await first.finish();
    const second = await lifecycle.startRun(job({ jobId: 'job-2' }));
    const worse = await second.registerVersion(tinyArtifacts(2), { round: 1, metrics: { accuracy: 0.65 } });
    const better = await second.registerVersion(tinyArtifacts(3), { round: 2, metrics: { accuracy: 0.8 } });
    await second.finish();

    expect(calls(mlflow, '/experiments/create')).toBe(1);
    expect(calls(mlflow, '/registered-models/create')).toBe(1);
    expect(mlflow.state.experiments.size).toBe(2); // Default + fedlearn
    expect(worse.promotion.promote).toBe(false);
    expect(better.promotion.promote).toBe(true);
    const registry = lifecycle.registry;
    expect((await registry.getVersionByAlias('tiny', 'champion')).version).toBe(3);
    expect((await registry.getVersionByAlias('tiny', 'challenger')).version).toBe(3);
    expect((await registry.listVersions('tiny')).map((v) => [v.version, v.metrics['accuracy']])).toEqual([
      [1, 0.7],
      [2, 0.65],
      [3, 0.8],
    ]);
    const audit = await registry.auditLog('tiny');
    expect(audit.filter((m) => m.alias === 'champion').map((m) => [m.previous, m.version])).toEqual([
      [null, 1],
      [1, 3],
    ]);
    expect(audit.every((m) => m.actor === 'fedlearn-coordinator' && m.reason.length > 0)).toBe(true);

    const manual = await lifecycle.promote('tiny', 2, { actor: 'alice', reason: 'rollback drill' });
    expect(manual).toMatchObject({ alias: 'champion', previous: 3, version: 2, actor: 'alice' });
    await registry.deleteAlias('tiny', 'challenger', { actor: 'alice', reason: 'cleanup' });
    const error = await registry.getVersionByAlias('tiny', 'challenger').catch((e) => e);
    expect(isFedlearnError(error, 'REGISTRY_NOT_FOUND')).toBe(true);
  });

  it('lists every version with its aliases although model-versions/search (like MLflow) omits them', async () => {
    const run = await lifecycle.startRun(job());
    await run.registerVersion(tinyArtifacts(1), { round: 1, metrics: { accuracy: 0.8 } });
    await run.registerVersion(tinyArtifacts(2), { round: 2, metrics: { accuracy: 0.7 } });
    await run.registerVersion(tinyArtifacts(3), { round: 3, metrics: { accuracy: 0.6 } });
    await run.finish();
    // What the stand-in answers, as MLflow's SqlAlchemyStore does: no aliases on search results.
    const searched = await fetch(`${mlflow.url}/api/2.0/mlflow/model-versions/search?filter=name%3D'tiny'`);
    const body = (await searched.json()) as { model_versions: Record<string, unknown>[] };
    expect(body.model_versions).toHaveLength(3);
    expect(body.model_versions.every((v) => !('aliases' in v))).toBe(true);

    const listed = await lifecycle.registry.listVersions('tiny');
    expect(listed.map((v) => [v.version, v.aliases])).toEqual([
      [1, ['champion']],
      [2, []],
      [3, ['challenger']],
    ]);
    // and in agreement with the single-version reads, which MLflow does fill in
    for (const v of listed)
      expect((await lifecycle.registry.getVersion('tiny', v.version)).aliases).toEqual(v.aliases);
  });

  it('tolerates a racing creator: experiments/create answers 400 RESOURCE_ALREADY_EXISTS', async () => {
    mlflow.state.createExperiment('fedlearn');
    mlflow.injectFault({
      path: 'experiments/get-by-name',
      status: 404,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
    const run = await lifecycle.startRun(job());
    expect(mlflow.state.run(run.runId).info.experiment_id).toBe(
      mlflow.state.experimentByName('fedlearn').experiment_id,
    );
    expect(calls(mlflow, '/experiments/create')).toBe(1);
  });

  it('retries a 429 with backoff, then succeeds', async () => {
    mlflow.injectFault({ path: 'runs/create', status: 429 });
    const run = await lifecycle.startRun(job());
    expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(waits).toEqual([250]);
    expect(calls(mlflow, '/runs/create')).toBe(2);
  });

  it('does not create a second version when model-versions/create took effect but answered 503', async () => {
    const run = await lifecycle.startRun(job());
    mlflow.injectFault({ path: 'model-versions/create', status: 503, afterHandling: true });
    const registered = await run.registerVersion(tinyArtifacts(), { round: 1, metrics: { accuracy: 0.5 } });
    expect(registered.version.version).toBe(1);
    expect(mlflow.state.registeredModel('tiny').versions).toHaveLength(1);
    expect(calls(mlflow, '/model-versions/create')).toBe(1);
    expect(waits).toEqual([250]);
  });

  it('re-sends model-versions/create after a 503 that did not create the version', async () => {
    const run = await lifecycle.startRun(job());
    mlflow.injectFault({ path: 'model-versions/create', status: 503 });
    const registered = await run.registerVersion(tinyArtifacts(), { round: 1, metrics: { accuracy: 0.5 } });
    expect(registered.version.version).toBe(1);
    expect(mlflow.state.registeredModel('tiny').versions).toHaveLength(1);
    expect(calls(mlflow, '/model-versions/create')).toBe(2);
  });

  it('gives up after the retry limit on persistent 500s with a typed error naming the call', async () => {
    const run = await lifecycle.startRun(job());
    await run.registerVersion(tinyArtifacts(), { round: 1, metrics: { accuracy: 0.5 } });
    mlflow.injectFault({ path: 'model-versions/get', status: 500, times: 100 });
    const error = await lifecycle.registry.getVersion('tiny', 1).catch((e) => e);
    expect(isFedlearnError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain('model-versions/get');
    expect(error.details).toMatchObject({
      call: 'model-versions/get',
      status: 500,
      attempts: 4,
      mlflowErrorCode: 'INTERNAL_ERROR',
    });
    expect(waits).toEqual([250, 500, 1000]);
  });

  it('maps 404 RESOURCE_DOES_NOT_EXIST for an unknown model, and the 400 for a missing alias, to REGISTRY_NOT_FOUND', async () => {
    const registry = lifecycle.registry;
    for (const attempt of [
      registry.getVersion('nope', 1),
      registry.listVersions('nope'),
      registry.getVersionByAlias('nope', 'champion'),
    ]) {
      const error = await attempt.catch((e) => e);
      expect(isFedlearnError(error, 'REGISTRY_NOT_FOUND')).toBe(true);
    }
    const direct = await registry.getVersion('nope', 1).catch((e) => e);
    expect(direct.details).toMatchObject({ status: 404, mlflowErrorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('refuses an HTML answer (not an MLflow API) and explains a refused Host header', async () => {
    const wrong = new MlflowRegistry({
      http: new MlflowHttp({ trackingUri: `${mlflow.url}/not-mlflow`, maxRetries: 0 }),
    });
    const html = await wrong.getVersion('tiny', 1).catch((e) => e);
    expect(isFedlearnError(html, 'REGISTRY_BAD_RESPONSE')).toBe(true);
    expect(html.message).toContain('not JSON');
    await wrong.close();

    const strict = await startMlflowStandIn({ allowedHosts: ['mlflow.internal:5000'] });
    const refused = new MlflowRegistry({ http: new MlflowHttp({ trackingUri: strict.url, maxRetries: 0 }) });
    const error = await refused.listModels().catch((e) => e);
    expect(isFedlearnError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain('--allowed-hosts');
    await refused.close();
    await strict.close();
  });

  it('reports an unreachable server as REGISTRY_UNAVAILABLE after retries', async () => {
    const { delay, waits: w } = recordingDelay();
    const down = new MlflowRegistry({
      http: new MlflowHttp({
        trackingUri: 'http://user:s3cret@127.0.0.1:9',
        token: 'tok3n',
        maxRetries: 2,
        delay,
      }),
    });
    const error = await down.listModels().catch((e) => e);
    expect(isFedlearnError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect(JSON.stringify({ m: error.message, d: error.details })).not.toMatch(/s3cret|tok3n/);
    expect(w).toEqual([250, 500]);
    await down.close();
  });
});
