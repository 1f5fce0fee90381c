import { createHash } from 'node:crypto';
import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

/** The files of one model version folder, by relative POSIX path. */
export type ModelFiles = Map<string, Uint8Array>;

/** Written last into every stored folder; a folder without it is incomplete and invisible. */
export const MANIFEST_FILE = 'fedlearn-manifest.json';

const manifestSchema = z.object({
  format: z.literal('fedlearn-folder'),
  formatVersion: z.literal(1),
  files: z.array(
    z.object({
      path: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: z.number().int().min(0),
    }),
  ),
});

/** Lists each file's sha256 and size; stores verify reads against it. */
export type FolderManifest = z.infer<typeof manifestSchema>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const SAFE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._/-]+$/;

/** Rejects paths that could escape the folder or clash with the manifest. */
export function assertRelativePath(path: string): void {
  if (!SAFE_PATH.test(path) || path === MANIFEST_FILE || path.includes('//')) {
    throw new FedlearnError('INVALID_ARGUMENT', `unsafe artifact path ${JSON.stringify(path)}`, {
      details: { path },
    });
  }
}

export function buildManifest(files: ModelFiles): FolderManifest {
  const entries = [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    format: 'fedlearn-folder',
    formatVersion: 1,
    files: entries.map(([path, bytes]) => {
      assertRelativePath(path);
      return { path, sha256: sha256Hex(bytes), size: bytes.length };
    }),
  };
}

export function encodeManifest(manifest: FolderManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

export function parseManifest(bytes: Uint8Array, where: string): FolderManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new FedlearnError('ARTIFACT_CHECKSUM_MISMATCH', `${where}: manifest is not JSON`, { cause });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new FedlearnError(
      'ARTIFACT_CHECKSUM_MISMATCH',
      `${where}: malformed manifest: ${parsed.error.message}`,
    );
  }
  for (const entry of parsed.data.files) assertRelativePath(entry.path);
  return parsed.data;
}

/** Throws ARTIFACT_CHECKSUM_MISMATCH unless `bytes` is what the manifest recorded for `path`. */
export function verifyFile(manifest: FolderManifest, path: string, bytes: Uint8Array, where: string): void {
  const entry = manifest.files.find((file) => file.path === path);
  if (!entry) throw new FedlearnError('ARTIFACT_NOT_FOUND', `${where}: ${path} is not in the manifest`);
  const actual = sha256Hex(bytes);
  if (entry.size !== bytes.length || entry.sha256 !== actual) {
    throw new FedlearnError(
      'ARTIFACT_CHECKSUM_MISMATCH',
      `${where}: ${path} does not match its recorded sha256`,
      {
        details: { path, expected: entry.sha256, actual, expectedSize: entry.size, actualSize: bytes.length },
      },
    );
  }
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
