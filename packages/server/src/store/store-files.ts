import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FedlearnError } from '@fedlearn/core';

/** Flushes a folder's entries (a rename or a new file) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write beside, fsync the file, rename into place, fsync the folder: the file is old or new, never half. */
export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, `${name}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, name));
  await fsyncDir(dir);
}

export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unavailable(error);
  }
}

/** Removes log files of other generations (left by a crash during compaction). */
export async function removeOtherLogs(dir: string, keep: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (/^wal-\d+\.log$/.test(name) && name !== keep) await rm(join(dir, name), { force: true });
  }
}

/**
 * One coordinator per folder: a lock file holds the owner's pid. A lock whose process is gone
 * (killed) is taken over. Limit: a pid reused by an unrelated process keeps the lock until removed.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.sync();
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(error);
      const owner = Number((await readIfExists(path))?.toString('utf8'));
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new FedlearnError('STORE_UNAVAILABLE', `the store in ${dir} is open in process ${owner}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new FedlearnError('STORE_UNAVAILABLE', `could not lock the store in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function unavailable(error: unknown): FedlearnError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  return new FedlearnError('STORE_UNAVAILABLE', `the store's files cannot be used (${code})`, {
    cause: error,
  });
}
