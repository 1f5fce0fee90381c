import { isFedlearnError } from '@fedlearn/core';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../artifact-store/local-store.js';
import { S3ArtifactStore } from '../artifact-store/s3-store.js';
import { MlflowHttp } from './http.js';
import { artifactStoreForUri, MlflowProxyArtifactStore } from './proxy-store.js';

const http = new MlflowHttp({ trackingUri: 'http://127.0.0.1:9' });
afterAll(() => http.close());
const s3 = { region: 'us-east-1', forcePathStyle: true, endpoint: 'http://127.0.0.1:9000' };

describe('artifactStoreForUri', () => {
  it('maps mlflow-artifacts:, s3:// and file:// to a store and the folder key in it', () => {
    const proxied = artifactStoreForUri('mlflow-artifacts:/1/abc/artifacts/model-round-2-x', { http });
    expect(proxied.store).toBeInstanceOf(MlflowProxyArtifactStore);
    expect(proxied.store.uri(proxied.key)).toBe('mlflow-artifacts:/1/abc/artifacts/model-round-2-x');

    const inS3 = artifactStoreForUri('s3://mlflow/1/abc/artifacts/model-1', { http, s3 });
    expect(inS3.store).toBeInstanceOf(S3ArtifactStore);
    expect(inS3.store.uri(inS3.key)).toBe('s3://mlflow/1/abc/artifacts/model-1');

    const local = artifactStoreForUri('file:///tmp/ml%20runs/1/model-1', { http });
    expect(local.store).toBeInstanceOf(LocalArtifactStore);
    expect((local.store as LocalArtifactStore).root).toBe('/tmp/ml runs/1');
    expect(local.key).toBe('model-1');
  });

  it('asks for S3 settings when MLflow stores artifacts in S3 without proxying them', () => {
    let error: unknown;
    try {
      artifactStoreForUri('s3://mlflow/1/abc/artifacts/m', { http });
    } catch (e) {
      error = e;
    }
    expect(isFedlearnError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('AWS_ENDPOINT_URL_S3');
  });
});
