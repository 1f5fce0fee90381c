import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SCHEME = 'sha256:';

/**
 * A new per-client credential and the hash the coordinator keeps of it. The credential is 256
 * random bits, so a fast hash is enough: there is nothing to brute-force, and checking every hello
 * of a thousand clients must stay cheap (a password hash such as scrypt would guard a weak secret,
 * which this never is).
 */
export function issueCredential(random: (n: number) => Uint8Array = randomBytes): {
  credential: string;
  secretHash: string;
} {
  const credential = Buffer.from(random(32)).toString('base64url');
  return { credential, secretHash: hashCredential(credential) };
}

export function hashCredential(credential: string): string {
  return SCHEME + createHash('sha256').update(credential, 'utf8').digest('hex');
}

/** Whether `given` is the credential behind `secretHash`, in constant time. */
export function credentialMatches(secretHash: string, given: unknown): boolean {
  if (typeof given !== 'string' || !secretHash.startsWith(SCHEME)) return false;
  const expected = Buffer.from(secretHash.slice(SCHEME.length), 'hex');
  const actual = Buffer.from(hashCredential(given).slice(SCHEME.length), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
