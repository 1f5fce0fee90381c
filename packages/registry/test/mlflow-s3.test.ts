import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { resolveLifecycleConfig } from '../src/config.js';
import { createModelLifecycle } from '../src/lifecycle.js';
import { startMlflowStandIn } from '../src/testing/index.js';
import { job, recordingDelay, tinyArtifacts } from './fixtures.js';

let server: S3rver;
let dir: string;
let endpoint: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedlearn-mlflow-s3-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'mlflow' }],
  });
  endpoint = `http://127.0.0.1:${((await server.run()) as AddressInfo).port}`;
});
/** MLflow at `trackingUri`, its artifacts in s3rver. */
function mlflowWithS3Env(trackingUri: string) {
  return {
    MLFLOW_TRACKING_URI: trackingUri,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('uploads straight to S3 when the MLflow stand-in does not proxy artifacts (s3rver)', async () => {
  const mlflow = await startMlflowStandIn({ proxyArtifacts: false, artifactRoot: 's3://mlflow' });
  const env = mlflowWithS3Env(mlflow.url);
  const lifecycle = createModelLifecycle(resolveLifecycleConfig(env, { cwd: dir }), {
    delay: recordingDelay().delay,
  });
  try {
    const run = await lifecycle.startRun(job());
    const { version } = await run.registerVersion(tinyArtifacts(), { round: 1, metrics: { accuracy: 0.5 } });
    expect(version.source).toMatch(/^s3:\/\/mlflow\/1\/[0-9a-f]{32}\/artifacts\/model-round-1-/);
    expect(mlflow.requests.some((r) => r.path.includes('mlflow-artifacts'))).toBe(false);
    const loaded = await lifecycle.loadModel('models:/tiny@champion');
    expect(loaded.artifacts.weightData).toEqual(tinyArtifacts().weightData);
  } finally {
    await lifecycle.close();
    await mlflow.close();
  }
});

it('shares one S3 client across versions and releases it on close', async () => {
  const mlflow = await startMlflowStandIn({ proxyArtifacts: false, artifactRoot: 's3://mlflow' });
  const env = mlflowWithS3Env(mlflow.url);
  const destroy = vi.spyOn(S3Client.prototype, 'destroy');
  const lifecycle = createModelLifecycle(resolveLifecycleConfig(env, { cwd: dir }), {
    delay: recordingDelay().delay,
  });
  try {
    const run = await lifecycle.startRun(job({ jobId: 'job-shared-client' }));
    await run.registerVersion(tinyArtifacts(1), { round: 1, metrics: { accuracy: 0.5 } });
    await run.registerVersion(tinyArtifacts(2), { round: 2, metrics: { accuracy: 0.6 } });
    await lifecycle.loadModel('models:/tiny@champion');
    expect(destroy).not.toHaveBeenCalled();
  } finally {
    await lifecycle.close();
    await mlflow.close();
  }
  expect(destroy).toHaveBeenCalledTimes(1);
  destroy.mockRestore();
});
