import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import type { ArtifactStore } from '../artifact-store/artifact-store.js';
import { LocalArtifactStore } from '../artifact-store/local-store.js';
import { parseS3Uri, S3ArtifactStore, type S3Connection } from '../artifact-store/s3-store.js';
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
import type { MlflowHttp } from './http.js';

function asArtifactError(error: unknown): unknown {
  if (isFedlearnError(error, 'REGISTRY_UNAVAILABLE') || isFedlearnError(error, 'REGISTRY_BAD_RESPONSE')) {
    return new FedlearnError('ARTIFACT_STORE_UNAVAILABLE', error.message, {
      cause: error,
      details: error.details,
    });
  }
  return error;
}

/**
 * Folders under a run's `mlflow-artifacts:/…` root, through the tracking server's artifact proxy.
 * The manifest goes last; a read first lists the folder, because the proxy answers a missing
 * file with a 500 rather than a 404.
 */
export class MlflowProxyArtifactStore implements ArtifactStore {
  constructor(
    private readonly http: MlflowHttp,
    /** Path under the proxy root, e.g. `1/<run_id>/artifacts`. */
    private readonly rootPath: string,
  ) {}

  private path(key: string, file?: string): string {
    assertRelativePath(key);
    return [this.rootPath, key, file].filter(Boolean).join('/');
  }

  uri(key: string): string {
    return `mlflow-artifacts:/${this.path(key)}`;
  }

  async putFolder(key: string, files: ModelFiles): Promise<FolderManifest> {
    const manifest = buildManifest(files);
    try {
      for (const [file, bytes] of files) await this.http.putArtifact(this.path(key, file), bytes);
      await this.http.putArtifact(this.path(key, MANIFEST_FILE), encodeManifest(manifest));
    } catch (error) {
      throw asArtifactError(error);
    }
    return manifest;
  }

  async hasFolder(key: string): Promise<boolean> {
    try {
      const listed = await this.http.listArtifacts(this.path(key));
      return listed.some((f) => f.path === MANIFEST_FILE || f.path.endsWith(`/${MANIFEST_FILE}`));
    } catch (error) {
      throw asArtifactError(error);
    }
  }

  async getFolder(key: string): Promise<ModelFiles> {
    const where = this.uri(key);
    if (!(await this.hasFolder(key)))
      throw new FedlearnError('ARTIFACT_NOT_FOUND', `${where}: no complete model folder`);
    try {
      const manifest = parseManifest(await this.http.getArtifact(this.path(key, MANIFEST_FILE)), where);
      const files: ModelFiles = new Map();
      for (const entry of manifest.files) {
        const bytes = await this.http.getArtifact(this.path(key, entry.path));
        verifyFile(manifest, entry.path, bytes, where);
        files.set(entry.path, bytes);
      }
      return files;
    } catch (error) {
      throw asArtifactError(error);
    }
  }
}

/** Resolves an artifact URI (`mlflow-artifacts:`, `s3://`, `file://`) to a store and a key in it. */
export function artifactStoreForUri(
  uri: string,
  deps: { http: MlflowHttp; s3?: S3Connection },
): { store: ArtifactStore; key: string } {
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+)$/.exec(uri);
  if (proxied) return splitLast(proxied[1]!, (root) => new MlflowProxyArtifactStore(deps.http, root));
  if (uri.startsWith('s3://')) {
    const { bucket, key } = parseS3Uri(uri);
    if (!deps.s3) {
      throw new FedlearnError(
        'INVALID_CONFIG',
        `MLflow stores artifacts in ${uri} and does not proxy them: set AWS_ENDPOINT_URL_S3 (or MLFLOW_S3_ENDPOINT_URL) and AWS credentials`,
      );
    }
    const connection = deps.s3;
    return splitLast(key, (prefix) => new S3ArtifactStore({ ...connection, bucket, prefix }));
  }
  if (uri.startsWith('file://')) {
    const path = new URL(uri).pathname;
    return splitLast(path.replace(/^\/+/, ''), (root) => new LocalArtifactStore(`/${root}`));
  }
  throw new FedlearnError(
    'INVALID_CONFIG',
    `unsupported artifact location ${uri} (use mlflow-artifacts:, s3:// or file://)`,
  );
}

function splitLast(
  path: string,
  make: (root: string) => ArtifactStore,
): { store: ArtifactStore; key: string } {
  const clean = path.replace(/\/+$/, '');
  const slash = clean.lastIndexOf('/');
  if (slash <= 0) return { store: make(''), key: clean };
  return { store: make(clean.slice(0, slash)), key: clean.slice(slash + 1) };
}
