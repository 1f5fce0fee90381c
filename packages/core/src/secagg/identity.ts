import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomBytes } from '../random.js';

/**
 * Long-term Ed25519 identity keys for the malicious-server mode (Bonawitz et al. CCS'17, §6): each
 * client signs its advertised keys and the survivor set it was told, and verifies its neighbours'
 * signatures against public keys pinned at enrollment, so a coordinator can neither swap a key
 * nor tell two clients different survivor sets unnoticed. @noble/curves runs in browsers too.
 */
export interface IdentityKey {
  /** The 32-byte Ed25519 secret seed. */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export const IDENTITY_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
const encoder = new TextEncoder();

export function identityFromSecret(secretKey: Uint8Array): IdentityKey {
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function generateIdentity(randomBytes: RandomBytes): IdentityKey {
  return identityFromSecret(randomBytes(IDENTITY_KEY_BYTES));
}

function statement(label: string, context: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const head = encoder.encode(`fedlearn/secagg/v1/${label}|`);
  const all = [head, context, ...parts];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What a client signs at the advertise stage: the round, its id and its two X25519 public keys. */
export function keysStatement(
  context: Uint8Array,
  clientId: string,
  encPublicKey: Uint8Array,
  maskPublicKey: Uint8Array,
): Uint8Array {
  return statement('keys', context, [sha256(encoder.encode(clientId)), encPublicKey, maskPublicKey]);
}

/** What a client signs at the consistency check: the round and the survivor set, order-free. */
export function survivorsStatement(context: Uint8Array, survivors: readonly string[]): Uint8Array {
  const sorted = [...survivors].sort();
  return statement('survivors', context, [sha256(encoder.encode(JSON.stringify(sorted)))]);
}

export function sign(identity: IdentityKey, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, identity.secretKey);
}

/** False for anything malformed as well as for a wrong signature. */
export function verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean {
  if (publicKey.length !== IDENTITY_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
