import { randomUUID } from 'node:crypto';
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FedlearnError } from '@fedlearn/core';
import lockfile from 'proper-lockfile';
import type { z } from 'zod';

/** A failed file operation of the local registry as a typed error (FedlearnErrors pass through). */
export function localFsError(cause: unknown, action: string): FedlearnError {
  if (cause instanceof FedlearnError) return cause;
  return new FedlearnError('REGISTRY_UNAVAILABLE', `cannot ${action}: ${String(cause)}`, { cause });
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Reads and validates a JSON file; `undefined` when it does not exist. */
export async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new FedlearnError('REGISTRY_UNAVAILABLE', `cannot read ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new FedlearnError('REGISTRY_BAD_RESPONSE', `${path} is not JSON`, { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new FedlearnError('REGISTRY_BAD_RESPONSE', `${path} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

/** Writes JSON through a temp file and a rename, so readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = join(dirname(path), `.${randomUUID()}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(temp, path);
  } catch (cause) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw localFsError(cause, `write ${path}`);
  }
}

/** Appends one JSON line (callers hold the lock). */
export async function appendJsonLine(path: string, value: unknown): Promise<void> {
  await appendFile(path, `${JSON.stringify(value)}\n`).catch((cause: unknown) => {
    throw localFsError(cause, `append to ${path}`);
  });
}

/** Reads a JSON-lines file; a torn last line (crash mid-append) is skipped. */
export async function readJsonLines<T>(path: string, schema: z.ZodType<T>): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return [];
    throw localFsError(error, `read ${path}`);
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = schema.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // a torn line from an interrupted append
    }
  }
  return out;
}

/**
 * Runs `fn` holding an exclusive lock on `dir` (a `mkdir`-based lock from proper-lockfile, safe
 * across processes; stale after 10 s if its holder died).
 */
export async function withDirLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  let release: () => Promise<void>;
  let compromised: unknown;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath: join(dir, '.lock'),
      realpath: false,
      stale: 10_000,
      retries: { retries: 200, factor: 1.3, minTimeout: 2, maxTimeout: 100, randomize: true },
      // The default throws from a timer and kills the process; report it to the caller instead.
      onCompromised: (error) => {
        compromised = error;
      },
    });
  } catch (cause) {
    throw new FedlearnError('REGISTRY_UNAVAILABLE', `could not lock ${dir}: ${String(cause)}`, { cause });
  }
  let result: T;
  try {
    result = await fn();
  } finally {
    await release().catch(() => undefined);
  }
  if (compromised !== undefined) {
    throw new FedlearnError('REGISTRY_CONFLICT', `lost the lock on ${dir} while writing; check the result`, {
      cause: compromised,
    });
  }
  return result;
}
