import { join } from 'node:path';
import { isFedlearnError } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { redactConfig, resolveLifecycleConfig } from './config.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isFedlearnError(error, 'INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('resolveLifecycleConfig', () => {
  it('defaults to the embedded local registry under <cwd>/.fedlearn with no env at all', () => {
    const config = resolveLifecycleConfig({}, { cwd: '/work/project' });
    expect(config).toMatchObject({
      home: join('/work/project', '.fedlearn'),
      registry: { kind: 'local' },
      artifacts: { kind: 'local' },
      promotion: { metric: 'accuracy', direction: 'max', minDelta: 0 },
    });
    expect(config.s3).toBeUndefined();
  });

  it('takes FEDLEARN_HOME, and --home over it', () => {
    expect(resolveLifecycleConfig({ FEDLEARN_HOME: '/srv/fl' }, { cwd: '/x' }).home).toBe('/srv/fl');
    expect(resolveLifecycleConfig({ FEDLEARN_HOME: '/srv/fl' }, { cwd: '/x', home: 'rel' }).home).toBe(
      '/x/rel',
    );
  });

  it('selects MLflow and MinIO from the course-stack env vars', () => {
    const config = resolveLifecycleConfig({
      MLFLOW_TRACKING_URI: 'http://localhost:5001',
      MLFLOW_S3_ENDPOINT_URL: 'http://localhost:9000',
      AWS_ACCESS_KEY_ID: 'minio',
      AWS_SECRET_ACCESS_KEY: 'minio-secret',
    });
    expect(config.registry).toEqual({
      kind: 'mlflow',
      trackingUri: 'http://localhost:5001',
      experimentName: 'fedlearn',
    });
    expect(config.s3).toEqual({
      endpoint: 'http://localhost:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: 'minio',
      secretAccessKey: 'minio-secret',
    });
    expect(JSON.stringify(redactConfig(config))).not.toContain('minio-secret');
  });

  it('redacts the token, the password and credentials inside the tracking URI', () => {
    const config = resolveLifecycleConfig({
      MLFLOW_TRACKING_URI: 'https://alice:uri-secret@mlflow.example:5000/',
      MLFLOW_TRACKING_TOKEN: 'tok3n',
      MLFLOW_TRACKING_USERNAME: 'alice',
      MLFLOW_TRACKING_PASSWORD: 'pw-secret',
    });
    const logged = JSON.stringify(redactConfig(config));
    expect(logged).not.toMatch(/uri-secret|tok3n|pw-secret/);
    expect(logged).toContain('https://alice:***@mlflow.example:5000/');
  });

  it('prefers AWS_ENDPOINT_URL_S3 and lets job options override promotion', () => {
    const config = resolveLifecycleConfig(
      {
        AWS_ENDPOINT_URL_S3: 'http://s3:9000',
        MLFLOW_S3_ENDPOINT_URL: 'http://other:9000',
        FEDLEARN_ARTIFACT_STORE: 's3',
      },
      { promotion: { metric: 'loss', direction: 'min', minDelta: 0.01 } },
    );
    expect(config.s3?.endpoint).toBe('http://s3:9000');
    expect(config.artifacts).toEqual({ kind: 's3', bucket: 'mlflow', prefix: 'fedlearn/models' });
    expect(config.promotion).toEqual({ metric: 'loss', direction: 'min', minDelta: 0.01 });
  });

  it('gives clear INVALID_CONFIG errors', () => {
    expect(configError(() => resolveLifecycleConfig({ MLFLOW_TRACKING_URI: 'file:./mlruns' }))).toContain(
      'http(s) URL',
    );
    expect(configError(() => resolveLifecycleConfig({ AWS_ENDPOINT_URL_S3: 'not a url' }))).toContain(
      'env.AWS_ENDPOINT_URL_S3',
    );
    expect(configError(() => resolveLifecycleConfig({ AWS_ACCESS_KEY_ID: 'x' }))).toContain(
      'AWS_SECRET_ACCESS_KEY',
    );
    expect(configError(() => resolveLifecycleConfig({ FEDLEARN_ARTIFACT_STORE: 's3' }))).toContain(
      'AWS_ENDPOINT_URL_S3',
    );
    expect(configError(() => resolveLifecycleConfig({}, { promotion: { minDelta: -1 } }))).toContain(
      'promotion.minDelta',
    );
    expect(configError(() => resolveLifecycleConfig({}, { bucket: 'Bad_Bucket' }))).toContain('bucket');
  });
});
