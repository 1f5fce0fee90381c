import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import type { ArtifactStore } from '../artifact-store/artifact-store.js';
import { LocalArtifactStore } from '../artifact-store/local-store.js';
import { type FolderBlobs, getManifestFolder, putManifestFolder } from '../artifact-store/manifest-folder.js';
import { parseS3Uri, S3ArtifactStore, type S3Connection } from '../artifact-store/s3-store.js';
import {
  assertRelativePath,
  type FolderManifest,
  MANIFEST_FILE,
  type ModelFiles,
} from '../model-format/files.js';
import type { MlflowHttp } from './http.js';

/** The proxy is part of the artifact store: its transport failures are the store's. */
function rethrowAsArtifactError(error: unknown): never {
  if (isFedlearnError(error, 'REGISTRY_UNAVAILABLE') || isFedlearnError(error, 'REGISTRY_BAD_RESPONSE')) {
    throw new FedlearnError('ARTIFACT_STORE_UNAVAILABLE', error.message, {
      cause: error,
      details: error.details,
    });
  }
  throw error;
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

  private blobs(key: string): FolderBlobs {
    return {
      put: (file, bytes) => this.http.putArtifact(this.path(key, file), bytes).catch(rethrowAsArtifactError),
      get: (file) => this.http.getArtifact(this.path(key, file)).catch(rethrowAsArtifactError),
    };
  }

  putFolder(key: string, files: ModelFiles): Promise<FolderManifest> {
    return putManifestFolder(this.blobs(key), files);
  }

  async hasFolder(key: string): Promise<boolean> {
    const listed = await this.http.listArtifacts(this.path(key)).catch(rethrowAsArtifactError);
    return listed.some((f) => f.path === MANIFEST_FILE || f.path.endsWith(`/${MANIFEST_FILE}`));
  }

  async getFolder(key: string): Promise<ModelFiles> {
    const where = this.uri(key);
    if (!(await this.hasFolder(key)))
      throw new FedlearnError('ARTIFACT_NOT_FOUND', `${where}: no complete model folder`);
    return getManifestFolder(this.blobs(key), where);
  }
}

/** Resolves an artifact URI (`mlflow-artifacts:`, `s3://`, `file://`) to a store and a key in it. */
export function artifactStoreForUri(
  uri: string,
  deps: { http: MlflowHttp; s3?: S3Connection; s3Client?: S3Client },
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
    return splitLast(key, (prefix) => new S3ArtifactStore({ ...connection, bucket, prefix }, deps.s3Client));
  }
  if (uri.startsWith('file://')) {
    const path = fileURLToPath(uri); // decodes %20 and friends, unlike URL.pathname
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
