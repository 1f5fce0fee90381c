import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 as nobleCurve25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomBytes } from '../random.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const encoder = new TextEncoder();

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** An X25519 key pair from 32 injected random bytes. */
export function generateKeyPair(randomBytes: RandomBytes): KeyPair {
  const secretKey = randomBytes(KEY_BYTES);
  return { secretKey, publicKey: nobleCurve25519.getPublicKey(secretKey) };
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return nobleCurve25519.getPublicKey(secretKey);
}

/**
 * X25519 scalar multiplication (secret key, public key) → shared secret. The default is
 * `@noble/curves` (pure JS, runs anywhere; the same library signs in malicious-server mode); a coordinator on Node may inject a native one (see docs/secure-aggregation.md).
 * It may throw, or return zeros, for a small-order public key.
 */
export type X25519 = (secretKey: Uint8Array, publicKey: Uint8Array) => Uint8Array;

export const portableX25519: X25519 = (secretKey, publicKey) =>
  nobleCurve25519.getSharedSecret(secretKey, publicKey);

/** X25519; undefined for a low-order public key (all-zero shared secret). */
export function agree(
  secretKey: Uint8Array,
  publicKey: Uint8Array,
  x25519: X25519 = portableX25519,
): Uint8Array | undefined {
  if (publicKey.length !== KEY_BYTES) return undefined;
  let shared: Uint8Array;
  try {
    shared = x25519(secretKey, publicKey);
  } catch {
    return undefined;
  }
  let acc = 0;
  for (const b of shared) acc |= b;
  return acc === 0 || shared.length !== KEY_BYTES ? undefined : shared;
}

/** Binds every derived key to this protocol version, round and graph: nothing carries across rounds. */
export function roundContext(
  round: number,
  graphSeed: Uint8Array,
  participants: readonly string[],
): Uint8Array {
  const head = encoder.encode(`fedlearn/secagg/v1|round=${round}|n=${participants.length}|`);
  const ids = sha256(encoder.encode(JSON.stringify(participants)));
  const all = new Uint8Array(head.length + graphSeed.length + ids.length);
  all.set(head, 0);
  all.set(graphSeed, head.length);
  all.set(ids, head.length + graphSeed.length);
  return sha256(all);
}

/**
 * HKDF-SHA256 with the round context as salt and, as info, a purpose label followed by `binding`
 * (for a pair's keys: see {@link pairBinding}).
 */
export function deriveKey(
  ikm: Uint8Array,
  context: Uint8Array,
  purpose: string,
  binding: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const label = encoder.encode(`fedlearn/secagg/${purpose}`);
  const info = new Uint8Array(label.length + binding.length);
  info.set(label, 0);
  info.set(binding, label.length);
  return hkdf(sha256, ikm, context, info, KEY_BYTES);
}

/**
 * Names the pair a shared secret belongs to — both ids and both public keys, lower participant
 * index first — so that a key agreed with a copied public key still yields a different key.
 */
export function pairBinding(
  a: { id: string; index: number; publicKey: Uint8Array },
  b: { id: string; index: number; publicKey: Uint8Array },
): Uint8Array {
  const [lo, hi] = a.index < b.index ? [a, b] : [b, a];
  const ids = encoder.encode(`|${JSON.stringify([lo.id, hi.id])}|`);
  const out = new Uint8Array(ids.length + lo.publicKey.length + hi.publicKey.length);
  out.set(ids, 0);
  out.set(lo.publicKey, ids.length);
  out.set(hi.publicKey, ids.length + lo.publicKey.length);
  return out;
}

const FIELD_P = (1n << 255n) - 19n;

/**
 * The canonical form of an X25519 public key (bit 255 cleared, u reduced mod 2^255 - 19), as hex:
 * two encodings of the same point give the same shared secrets, so they compare equal here.
 */
export function canonicalKey(key: Uint8Array): string {
  let u = 0n;
  for (let i = key.length - 1; i >= 0; i--) u = (u << 8n) | BigInt(key[i] as number);
  u &= (1n << 255n) - 1n;
  if (u >= FIELD_P) u -= FIELD_P;
  return u.toString(16).padStart(64, '0');
}

/** Commitment to a self-mask seed, checked when the server rebuilds it. */
export function commitSeed(seed: Uint8Array, context: Uint8Array): Uint8Array {
  const all = new Uint8Array(context.length + seed.length);
  all.set(context, 0);
  all.set(seed, context.length);
  return sha256(all);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function pairLabel(context: Uint8Array, from: number, to: number): Uint8Array {
  const aad = new Uint8Array(context.length + 8);
  aad.set(context, 0);
  const view = new DataView(aad.buffer);
  view.setUint32(context.length, from);
  view.setUint32(context.length + 4, to);
  return aad;
}

/** Length of a sealed share bundle for a plaintext of `plainBytes`. */
export function sealedLength(plainBytes: number): number {
  return NONCE_BYTES + plainBytes + TAG_BYTES;
}

/** XChaCha20-Poly1305 with a random nonce; the sender and receiver indices are authenticated. */
export function seal(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: { context: Uint8Array; from: number; to: number },
  randomBytes: RandomBytes,
): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const body = xchacha20poly1305(key, nonce, pairLabel(aad.context, aad.from, aad.to)).encrypt(plaintext);
  const out = new Uint8Array(NONCE_BYTES + body.length);
  out.set(nonce, 0);
  out.set(body, NONCE_BYTES);
  return out;
}

/** Opens a sealed bundle; undefined when it is truncated, forged or meant for another pair. */
export function open(
  key: Uint8Array,
  sealed: Uint8Array,
  aad: { context: Uint8Array; from: number; to: number },
): Uint8Array | undefined {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const nonce = sealed.subarray(0, NONCE_BYTES);
    return xchacha20poly1305(key, nonce, pairLabel(aad.context, aad.from, aad.to)).decrypt(
      sealed.subarray(NONCE_BYTES),
    );
  } catch {
    return undefined;
  }
}

// u-coordinates of the points of small order on Curve25519 (and their non-canonical encodings),
// as in libsodium's blacklist: agreeing with one of them yields an all-zero secret.
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

/** A well-formed X25519 public key: 32 bytes and not a point of small order. */
export function isValidPublicKey(key: Uint8Array): boolean {
  if (key.length !== KEY_BYTES) return false;
  const canonical = Uint8Array.from(key);
  canonical[31] = (canonical[31] as number) & 0x7f; // X25519 ignores the top bit
  let hex = '';
  for (const b of canonical) hex += b.toString(16).padStart(2, '0');
  return !SMALL_ORDER.includes(hex);
}
