import type { FolderManifest, ModelFiles } from '../model-format/files.js';

/**
 * Where model version folders live. A folder becomes visible to readers only when complete
 * (its manifest is written last, or the folder is renamed into place), and every read is
 * verified against the manifest's sha256s.
 *
 * @example
 * await store.putFolder('mnist/3', files);
 * const same = await store.getFolder('mnist/3'); // ARTIFACT_CHECKSUM_MISMATCH if tampered
 */
export interface ArtifactStore {
  /** A URI naming the folder at `key` (`file:///…`, `s3://bucket/…`, `mlflow-artifacts:/…`). */
  uri(key: string): string;
  /** Writes every file, then the manifest. Returns the manifest written. */
  putFolder(key: string, files: ModelFiles): Promise<FolderManifest>;
  /** Reads and verifies a complete folder; ARTIFACT_NOT_FOUND when absent or incomplete. */
  getFolder(key: string): Promise<ModelFiles>;
  /** True when a complete folder exists at `key`. */
  hasFolder(key: string): Promise<boolean>;
  /** Releases connections the store opened (S3); a no-op for the others. */
  close?(): Promise<void>;
}
