import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import {
  buildManifest,
  encodeManifest,
  type FolderManifest,
  MANIFEST_FILE,
  type ModelFiles,
  parseManifest,
  verifyFile,
} from '../model-format/files.js';

/**
 * Whole-object access to one folder of a store, by relative path: all a store must provide for
 * `putManifestFolder` and `getManifestFolder` to write and read it.
 */
export interface FolderBlobs {
  put(path: string, bytes: Uint8Array): Promise<void>;
  /** The bytes at `path`; ARTIFACT_NOT_FOUND when there is no such object. */
  get(path: string): Promise<Uint8Array>;
}

/**
 * Writes every file, then the manifest: a reader that finds the manifest finds a complete folder.
 *
 * @example await putManifestFolder({ put: (path, bytes) => upload(`${key}/${path}`, bytes) }, files)
 */
export async function putManifestFolder(
  blobs: Pick<FolderBlobs, 'put'>,
  files: ModelFiles,
  beforeCommit?: () => Promise<void>,
): Promise<FolderManifest> {
  const manifest = buildManifest(files);
  for (const [path, bytes] of files) await blobs.put(path, bytes);
  await beforeCommit?.();
  await blobs.put(MANIFEST_FILE, encodeManifest(manifest));
  return manifest;
}

/**
 * Reads the manifest, then every file it lists, verifying each against its sha256 and size.
 * No manifest is ARTIFACT_NOT_FOUND (an absent or incomplete folder); a listed file that is
 * missing or different is ARTIFACT_CHECKSUM_MISMATCH.
 *
 * @example const files = await getManifestFolder({ get: (path) => download(`${key}/${path}`) }, uri)
 */
export async function getManifestFolder(blobs: Pick<FolderBlobs, 'get'>, where: string): Promise<ModelFiles> {
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = await blobs.get(MANIFEST_FILE);
  } catch (error) {
    if (!isFedlearnError(error, 'ARTIFACT_NOT_FOUND')) throw error;
    throw new FedlearnError('ARTIFACT_NOT_FOUND', `${where}: no complete model folder`, { cause: error });
  }
  const manifest = parseManifest(manifestBytes, where);
  const files: ModelFiles = new Map();
  for (const entry of manifest.files) {
    let bytes: Uint8Array;
    try {
      bytes = await blobs.get(entry.path);
    } catch (error) {
      if (!isFedlearnError(error, 'ARTIFACT_NOT_FOUND')) throw error;
      throw new FedlearnError('ARTIFACT_CHECKSUM_MISMATCH', `${where}: ${entry.path} listed but missing`, {
        cause: error,
        details: { path: entry.path },
      });
    }
    verifyFile(manifest, entry.path, bytes, where);
    files.set(entry.path, bytes);
  }
  return files;
}
