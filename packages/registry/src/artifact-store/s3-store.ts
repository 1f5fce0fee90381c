import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FedlearnError } from '@fedlearn/core';
import {
  assertRelativePath,
  type FolderManifest,
  MANIFEST_FILE,
  type ModelFiles,
} from '../model-format/files.js';
import type { ArtifactStore } from './artifact-store.js';
import { type FolderBlobs, getManifestFolder, putManifestFolder } from './manifest-folder.js';

/** How to reach an S3-compatible server (AWS, MinIO, s3rver). Credentials come from config, never code. */
export interface S3Connection {
  /** e.g. `http://localhost:9000` for MinIO; omitted for AWS. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`/bucket/key`), which MinIO needs. */
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Where an `S3ArtifactStore` keeps its folders: a bucket and a key prefix, on a connection. */
export interface S3StoreOptions extends S3Connection {
  bucket: string;
  /** Key prefix inside the bucket, without a trailing slash. */
  prefix?: string;
  /** Called after the files and before the manifest are written (tests use it to look mid-upload). */
  beforeCommit?: (key: string) => Promise<void>;
}

/** Parses `s3://bucket/some/key` into bucket and key. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?(.*)$/.exec(uri);
  if (!match) throw new FedlearnError('INVALID_ARGUMENT', `invalid S3 URI ${JSON.stringify(uri)}`);
  return { bucket: match[1]!, key: match[2]!.replace(/\/+$/, '') };
}

/** An S3 client for `connection`; checksums are ours (Content-MD5 and the manifest), not the SDK's. */
export function createS3Client(connection: S3Connection): S3Client {
  return new S3Client({
    region: connection.region,
    forcePathStyle: connection.forcePathStyle,
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    ...(connection.accessKeyId && connection.secretAccessKey
      ? { credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey } }
      : {}),
    // Checksums are ours (Content-MD5 on upload, sha256 manifest on read); flexible checksums
    // are not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name ?? '') : '';
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/**
 * Model folders in an S3 bucket (`mlflow` by default). Files go first, the manifest last:
 * a folder without its manifest is invisible. Uploads carry Content-MD5, so the server rejects
 * corrupted bodies; reads are verified against the manifest's sha256s.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly where: string;

  constructor(
    private readonly options: S3StoreOptions,
    client?: S3Client,
  ) {
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.client = client ?? createS3Client(options);
    this.ownsClient = client === undefined;
    this.where = `S3 bucket "${this.bucket}"${options.endpoint ? ` at ${options.endpoint}` : ''}`;
  }

  /** Destroys the S3 client if this store created it (a shared client is its owner's to close). */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private keyOf(folder: string, file?: string): string {
    assertRelativePath(folder);
    const parts = [this.prefix, folder, file].filter((p): p is string => Boolean(p));
    return parts.join('/');
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.keyOf(key)}`;
  }

  private fail(error: unknown, action: string): never {
    const name = errorName(error);
    if (name === 'NoSuchBucket') {
      throw new FedlearnError(
        'ARTIFACT_STORE_UNAVAILABLE',
        `${this.where} does not exist: create it first (for MinIO: mc mb <alias>/${this.bucket})`,
        { cause: error, details: { bucket: this.bucket, action } },
      );
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404) {
      throw new FedlearnError('ARTIFACT_NOT_FOUND', `${this.where}: ${action}: not found`, { cause: error });
    }
    throw new FedlearnError(
      'ARTIFACT_STORE_UNAVAILABLE',
      `${this.where}: ${action} failed: ${name || String(error)}`,
      {
        cause: error,
        details: { bucket: this.bucket, action, status: statusOf(error) },
      },
    );
  }

  private async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const md5 = createHash('md5').update(body).digest();
    try {
      const result = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentMD5: md5.toString('base64'),
        }),
      );
      // A single-part PUT's ETag is the body's MD5 on AWS (SSE-S3), MinIO and s3rver.
      const etag = result.ETag?.replace(/"/g, '');
      if (etag && /^[0-9a-f]{32}$/.test(etag) && etag !== md5.toString('hex')) {
        throw new FedlearnError(
          'ARTIFACT_CHECKSUM_MISMATCH',
          `${this.where}: ${key} stored with a different MD5`,
          {
            details: { key, expected: md5.toString('hex'), actual: etag },
          },
        );
      }
    } catch (error) {
      if (error instanceof FedlearnError) throw error;
      this.fail(error, `put ${key}`);
    }
  }

  private async get(key: string): Promise<Uint8Array> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!result.Body) throw new FedlearnError('ARTIFACT_NOT_FOUND', `${this.where}: ${key} has no body`);
      return await result.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof FedlearnError) throw error;
      this.fail(error, `get ${key}`);
    }
  }

  private blobs(key: string): FolderBlobs {
    return {
      put: (path, bytes) =>
        this.put(
          this.keyOf(key, path),
          bytes,
          path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        ),
      get: (path) => this.get(this.keyOf(key, path)),
    };
  }

  putFolder(key: string, files: ModelFiles): Promise<FolderManifest> {
    const beforeCommit = this.options.beforeCommit;
    return putManifestFolder(this.blobs(key), files, beforeCommit && (() => beforeCommit(key)));
  }

  getFolder(key: string): Promise<ModelFiles> {
    return getManifestFolder(this.blobs(key), this.uri(key));
  }

  async hasFolder(key: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key, MANIFEST_FILE) }),
      );
      return true;
    } catch (error) {
      const name = errorName(error);
      if (name === 'NotFound' || name === 'NoSuchKey' || statusOf(error) === 404) return false;
      this.fail(error, `head ${key}`);
    }
  }
}
