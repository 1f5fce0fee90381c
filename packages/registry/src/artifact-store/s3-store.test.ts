import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { isFedlearnError } from '@fedlearn/core';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MANIFEST_FILE, type ModelFiles, utf8 } from '../model-format/files.js';
import { createS3Client, S3ArtifactStore, type S3Connection } from './s3-store.js';

let server: S3rver;
let dir: string;
let connection: S3Connection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedlearn-s3rver-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'mlflow', configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  connection = {
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function sampleFiles(): ModelFiles {
  return new Map([
    ['model.json', utf8('{"format":"layers-model"}')],
    ['group1-shard1of1.bin', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])],
  ]);
}

describe('S3ArtifactStore against a real S3-compatible server (s3rver)', () => {
  it('uploads a folder and reads it back verified', async () => {
    const store = new S3ArtifactStore({ ...connection, bucket: 'mlflow', prefix: 'fedlearn' });
    const manifest = await store.putFolder('mnist/1', sampleFiles());
    expect(manifest.files.map((f) => f.path)).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect(store.uri('mnist/1')).toBe('s3://mlflow/fedlearn/mnist/1');
    expect(await store.hasFolder('mnist/1')).toBe(true);
    const files = await store.getFolder('mnist/1');
    expect([...files.get('group1-shard1of1.bin')!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps a folder invisible until its upload is complete', async () => {
    let seenMidUpload: { has: boolean; error: unknown } | undefined;
    const reader = new S3ArtifactStore({ ...connection, bucket: 'mlflow' });
    const writer = new S3ArtifactStore({
      ...connection,
      bucket: 'mlflow',
      beforeCommit: async (key) => {
        seenMidUpload = {
          has: await reader.hasFolder(key),
          error: await reader.getFolder(key).catch((e) => e),
        };
      },
    });
    await writer.putFolder('atomic/1', sampleFiles());
    expect(seenMidUpload?.has).toBe(false);
    expect(isFedlearnError(seenMidUpload?.error, 'ARTIFACT_NOT_FOUND')).toBe(true);
    expect(await reader.hasFolder('atomic/1')).toBe(true);
  });

  it('detects a tampered object by its checksum', async () => {
    const store = new S3ArtifactStore({ ...connection, bucket: 'mlflow' });
    await store.putFolder('tampered/1', sampleFiles());
    const raw = createS3Client(connection);
    await raw.send(
      new PutObjectCommand({
        Bucket: 'mlflow',
        Key: 'tampered/1/group1-shard1of1.bin',
        Body: new Uint8Array([9, 9, 9]),
      }),
    );
    const error = await store.getFolder('tampered/1').catch((e) => e);
    expect(isFedlearnError(error, 'ARTIFACT_CHECKSUM_MISMATCH')).toBe(true);
    expect(error.message).toContain('group1-shard1of1.bin');
  });

  it('reports a missing folder as ARTIFACT_NOT_FOUND', async () => {
    const store = new S3ArtifactStore({ ...connection, bucket: 'mlflow' });
    const error = await store.getFolder('nothing/here').catch((e) => e);
    expect(isFedlearnError(error, 'ARTIFACT_NOT_FOUND')).toBe(true);
  });

  it('reports a missing bucket clearly', async () => {
    const store = new S3ArtifactStore({ ...connection, bucket: 'no-such-bucket' });
    const error = await store.putFolder('m/1', sampleFiles()).catch((e) => e);
    expect(isFedlearnError(error, 'ARTIFACT_STORE_UNAVAILABLE')).toBe(true);
    expect(error.message).toMatch(/S3 bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist/);
  });

  it('closes the S3 client it created, never one it was given', async () => {
    const shared = createS3Client(connection);
    const destroyShared = vi.spyOn(shared, 'destroy');
    await new S3ArtifactStore({ ...connection, bucket: 'mlflow' }, shared).close();
    expect(destroyShared).not.toHaveBeenCalled();
    const destroy = vi.spyOn(S3Client.prototype, 'destroy');
    await new S3ArtifactStore({ ...connection, bucket: 'mlflow' }).close();
    expect(destroy).toHaveBeenCalledTimes(1);
    destroy.mockRestore();
    shared.destroy();
  });

  it('rejects a manifest path that escapes the folder', async () => {
    const store = new S3ArtifactStore({ ...connection, bucket: 'mlflow' });
    const raw = createS3Client(connection);
    const manifest = {
      format: 'fedlearn-folder',
      formatVersion: 1,
      files: [{ path: '../x', sha256: '0'.repeat(64), size: 0 }],
    };
    await raw.send(
      new PutObjectCommand({
        Bucket: 'mlflow',
        Key: `evil/1/${MANIFEST_FILE}`,
        Body: JSON.stringify(manifest),
      }),
    );
    const error = await store.getFolder('evil/1').catch((e) => e);
    expect(isFedlearnError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});
