import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FedlearnError } from '@fedlearn/core';
import {
  assertRelativePath,
  type FolderManifest,
  MANIFEST_FILE,
  type ModelFiles,
} from '../model-format/files.js';
import type { ArtifactStore } from './artifact-store.js';
import { type FolderBlobs, getManifestFolder, putManifestFolder } from './manifest-folder.js';

function isErrno(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === 'object' && error !== null && codes.includes(String((error as { code?: unknown }).code))
  );
}

/** Files under a local directory as `FolderBlobs` (a missing file is ARTIFACT_NOT_FOUND). */
function directoryBlobs(dir: string, where: string): FolderBlobs {
  return {
    async put(path, bytes) {
      const target = join(dir, path);
      try {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, bytes);
      } catch (cause) {
        throw new FedlearnError(
          'ARTIFACT_STORE_UNAVAILABLE',
          `${where}: cannot write ${path}: ${String(cause)}`,
          {
            cause,
          },
        );
      }
    },
    async get(path) {
      try {
        return new Uint8Array(await readFile(join(dir, path)));
      } catch (cause) {
        if (isErrno(cause, 'ENOENT', 'ENOTDIR')) {
          throw new FedlearnError('ARTIFACT_NOT_FOUND', `${where}: no ${path}`, { cause });
        }
        throw new FedlearnError(
          'ARTIFACT_STORE_UNAVAILABLE',
          `${where}: cannot read ${path}: ${String(cause)}`,
          {
            cause,
          },
        );
      }
    },
  };
}

/** Writes files and their manifest into a fresh hidden folder under `root`; rename it into place. */
export async function stageFolder(
  root: string,
  files: ModelFiles,
): Promise<{ dir: string; manifest: FolderManifest }> {
  const dir = join(root, '.staging', randomUUID());
  try {
    return { dir, manifest: await putManifestFolder(directoryBlobs(dir, dir), files) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** Reads and verifies a folder written by `stageFolder` (or any folder holding a manifest). */
export function readVerifiedFolder(dir: string, where: string): Promise<ModelFiles> {
  return getManifestFolder(directoryBlobs(dir, where), where);
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
    try {
      await mkdir(dirname(target), { recursive: true });
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
