import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ClientIdentity,
  cryptoRandomBytes,
  FedlearnError,
  generateIdentity,
  identityFromSecret,
} from '@fedlearn/core';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * Enrolls `ids` for the malicious-server mode: writes each client's Ed25519 secret to
 * `DIR/<id>.key` (mode 0600) and every public key to `DIR/pinned.json`, and returns that map for
 * the job spec's `secagg.identities`.
 */
export async function enrollIdentities(dir: string, ids: readonly string[]): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pinned: Record<string, string> = {};
  for (const id of ids) {
    const key = generateIdentity(cryptoRandomBytes);
    await writeFile(join(dir, `${id}.key`), `${hex(key.secretKey)}\n`, { mode: 0o600 });
    pinned[id] = hex(key.publicKey);
  }
  await writeFile(join(dir, 'pinned.json'), `${JSON.stringify(pinned, null, 2)}\n`);
  return pinned;
}

/** A client's identity key and the pinned keys of everyone, from a directory `enrollIdentities` wrote. */
export async function readIdentity(dir: string, clientId: string): Promise<ClientIdentity> {
  const secret = (await readFile(join(dir, `${clientId}.key`), 'utf8')).trim();
  const pinned: unknown = JSON.parse(await readFile(join(dir, 'pinned.json'), 'utf8'));
  if (!HEX_KEY.test(secret) || typeof pinned !== 'object' || pinned === null) {
    throw new FedlearnError('INVALID_CONFIG', `identity files in ${dir} are malformed`);
  }
  const keys = new Map<string, Uint8Array>();
  for (const [id, value] of Object.entries(pinned)) {
    if (typeof value !== 'string' || !HEX_KEY.test(value)) {
      throw new FedlearnError('INVALID_CONFIG', `pinned key of ${id} in ${dir} is malformed`);
    }
    keys.set(id, Uint8Array.from(Buffer.from(value, 'hex')));
  }
  return { identity: identityFromSecret(Uint8Array.from(Buffer.from(secret, 'hex'))), pinned: keys };
}

/**
 * Saves what `fedlearn enroll` got: the client's Ed25519 secret (`DIR/<id>.key`), its credential
 * (`DIR/<id>.credential`), both mode 0600, and its public key merged into `DIR/pinned.json`.
 */
export async function saveEnrollment(
  dir: string,
  clientId: string,
  key: { secretKey: Uint8Array; publicKey: Uint8Array },
  credential: string,
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, `${clientId}.key`), `${hex(key.secretKey)}\n`, { mode: 0o600 });
  await writeFile(join(dir, `${clientId}.credential`), `${credential}\n`, { mode: 0o600 });
  let pinned: Record<string, unknown> = {};
  try {
    pinned = JSON.parse(await readFile(join(dir, 'pinned.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // No pinned keys yet: this is the first client enrolled into this folder.
  }
  pinned[clientId] = hex(key.publicKey);
  await writeFile(join(dir, 'pinned.json'), `${JSON.stringify(pinned, null, 2)}\n`);
}

/** The credential `saveEnrollment` wrote for `clientId`, if that file exists. */
export async function readCredential(dir: string, clientId: string): Promise<string | undefined> {
  try {
    const credential = (await readFile(join(dir, `${clientId}.credential`), 'utf8')).trim();
    return credential || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FedlearnError('INVALID_CONFIG', `cannot read the credential of ${clientId} in ${dir}`);
  }
}
