import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FedlearnError } from '@fedlearn/core';
import {
  assertRelativePath,
  buildManifest,
  encodeManifest,
  type FolderManifest,
  MANIFEST_FILE,
  type ModelFiles,
  parseManifest,
  verifyFile,
} from '../model-format/files.js';
import type { ArtifactStore } from './artifact-store.js';

function isErrno(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === 'object' && error !== null && codes.includes(String((error as { code?: unknown }).code))
  );
}

/** Writes files and their manifest into a fresh hidden folder under `root`; rename it into place. */
export async function stageFolder(
  root: string,
  files: ModelFiles,
): Promise<{ dir: string; manifest: FolderManifest }> {
  const manifest = buildManifest(files);
  const dir = join(root, '.staging', randomUUID());
  for (const [path, bytes] of files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MANIFEST_FILE), encodeManifest(manifest));
  return { dir, manifest };
}

/** Reads and verifies a folder written by `stageFolder` (or any folder holding a manifest). */
export async function readVerifiedFolder(dir: string, where: string): Promise<ModelFiles> {
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = await readFile(join(dir, MANIFEST_FILE));
  } catch (cause) {
    if (isErrno(cause, 'ENOENT', 'ENOTDIR')) {
      throw new FedlearnError('ARTIFACT_NOT_FOUND', `${where}: no complete model folder`, { cause });
    }
    throw new FedlearnError('ARTIFACT_STORE_UNAVAILABLE', `${where}: cannot read: ${String(cause)}`, {
      cause,
    });
  }
  const manifest = parseManifest(manifestBytes, where);
  const files: ModelFiles = new Map();
  for (const entry of manifest.files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(dir, entry.path)));
    } catch (cause) {
      throw new FedlearnError('ARTIFACT_CHECKSUM_MISMATCH', `${where}: ${entry.path} listed but missing`, {
        cause,
      });
    }
    verifyFile(manifest, entry.path, bytes, where);
    files.set(entry.path, bytes);
  }
  return files;
}

/**
 * The embedded default: folders under a local directory. A folder is staged in `.staging/` and
 * renamed into place, so a reader sees all of it or nothing.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private dirOf(key: string): string {
    assertRelativePath(key);
    const dir = resolve(this.root, key);
    if (!dir.startsWith(this.root + sep))
      throw new FedlearnError('INVALID_ARGUMENT', `unsafe artifact key ${key}`);
    return dir;
  }

  uri(key: string): string {
    return pathToFileURL(this.dirOf(key)).href;
  }

  async putFolder(key: string, files: ModelFiles): Promise<FolderManifest> {
    const target = this.dirOf(key);
    const staged = await stageFolder(this.root, files);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(staged.dir, target);
    } catch (cause) {
      await rm(staged.dir, { recursive: true, force: true });
      if (isErrno(cause, 'EEXIST', 'ENOTEMPTY')) {
        throw new FedlearnError('REGISTRY_CONFLICT', `artifact folder ${key} already exists`, { cause });
      }
      throw new FedlearnError('ARTIFACT_STORE_UNAVAILABLE', `cannot write ${target}: ${String(cause)}`, {
        cause,
      });
    }
    return staged.manifest;
  }

  getFolder(key: string): Promise<ModelFiles> {
    return readVerifiedFolder(this.dirOf(key), `local artifact ${key}`);
  }

  async hasFolder(key: string): Promise<boolean> {
    try {
      await readFile(join(this.dirOf(key), MANIFEST_FILE));
      return true;
    } catch {
      return false;
    }
  }
}
