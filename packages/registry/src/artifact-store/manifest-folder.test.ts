import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { MANIFEST_FILE, type ModelFiles, utf8 } from '../model-format/files.js';
import { type FolderBlobs, getManifestFolder, putManifestFolder } from './manifest-folder.js';

function memoryBlobs(): FolderBlobs & { objects: Map<string, Uint8Array>; order: string[] } {
  const objects = new Map<string, Uint8Array>();
  const order: string[] = [];
  return {
    objects,
    order,
    async put(path, bytes) {
      order.push(path);
      objects.set(path, bytes);
    },
    async get(path) {
      const bytes = objects.get(path);
      if (!bytes) throw new FedlearnError('ARTIFACT_NOT_FOUND', `no ${path}`);
      return bytes;
    },
  };
}

const files = (): ModelFiles =>
  new Map([
    ['model.json', utf8('{"format":"layers-model"}')],
    ['group1-shard1of1.bin', new Uint8Array([1, 2, 3])],
  ]);

describe('manifest folders over any blob store', () => {
  it('writes the manifest last and reads the folder back verified', async () => {
    const blobs = memoryBlobs();
    let manifestBeforeCommit: boolean | undefined;
    await putManifestFolder(blobs, files(), async () => {
      manifestBeforeCommit = blobs.objects.has(MANIFEST_FILE);
    });
    expect(manifestBeforeCommit).toBe(false);
    expect(blobs.order.at(-1)).toBe(MANIFEST_FILE);
    const read = await getManifestFolder(blobs, 'mem');
    expect([...read.keys()].sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
  });

  it('reports no manifest as ARTIFACT_NOT_FOUND, a missing or changed file as ARTIFACT_CHECKSUM_MISMATCH', async () => {
    const empty = await getManifestFolder(memoryBlobs(), 'mem').catch((e: unknown) => e);
    expect(isFedlearnError(empty, 'ARTIFACT_NOT_FOUND')).toBe(true);

    const blobs = memoryBlobs();
    await putManifestFolder(blobs, files());
    blobs.objects.set('model.json', utf8('{"format":"evil"}'));
    const changed = await getManifestFolder(blobs, 'mem').catch((e: unknown) => e);
    expect(isFedlearnError(changed, 'ARTIFACT_CHECKSUM_MISMATCH')).toBe(true);
    blobs.objects.delete('model.json');
    const missing = await getManifestFolder(blobs, 'mem').catch((e: unknown) => e);
    expect(isFedlearnError(missing, 'ARTIFACT_CHECKSUM_MISMATCH')).toBe(true);
    expect((missing as Error).message).toContain('model.json listed but missing');
  });

  it('passes other store errors through unchanged', async () => {
    const failing: FolderBlobs = {
      put: async () => undefined,
      get: async () => {
        throw new FedlearnError('ARTIFACT_STORE_UNAVAILABLE', 'down');
      },
    };
    const error = await getManifestFolder(failing, 'mem').catch((e: unknown) => e);
    expect(isFedlearnError(error, 'ARTIFACT_STORE_UNAVAILABLE')).toBe(true);
  });
});
