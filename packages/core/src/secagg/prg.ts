import { secaggError } from './errors.js';

/**
 * Mask expansion: the ChaCha20 keystream (RFC 8439, zero nonce, counter from 0) of a 256-bit seed,
 * read as little-endian 32-bit words and added to (or subtracted from) a vector mod 2^32.
 * Reducing mod 2^32 and later mod 2^b agree because 2^b divides 2^32.
 * The block function is written out here, fused with the addition, because mask expansion dominates
 * both the client's and the server's time; `prg.test.ts` checks it word for word against
 * `@noble/ciphers`' chacha20.
 */
export function addMask(out: Uint32Array, seed: Uint8Array, sign: 1 | -1, from = 0): void {
  checkMaskArgs(seed, from);
  const key = new DataView(seed.buffer, seed.byteOffset, 32);
  const k0 = key.getUint32(0, true);
  const k1 = key.getUint32(4, true);
  const k2 = key.getUint32(8, true);
  const k3 = key.getUint32(12, true);
  const k4 = key.getUint32(16, true);
  const k5 = key.getUint32(20, true);
  const k6 = key.getUint32(24, true);
  const k7 = key.getUint32(28, true);
  const n = out.length;
  for (let o = 0, ctr = from / 16; o < n; o += 16, ctr++) {
    let x0 = 0x61707865,
      x1 = 0x3320646e,
      x2 = 0x79622d32,
      x3 = 0x6b206574,
      x4 = k0,
      x5 = k1,
      x6 = k2,
      x7 = k3,
      x8 = k4,
      x9 = k5,
      x10 = k6,
      x11 = k7,
      x12 = ctr,
      x13 = 0,
      x14 = 0,
      x15 = 0;
    for (let r = 0; r < 10; r++) {
      x0 = (x0 + x4) | 0;
      x12 ^= x0;
      x12 = (x12 << 16) | (x12 >>> 16);
      x8 = (x8 + x12) | 0;
      x4 ^= x8;
      x4 = (x4 << 12) | (x4 >>> 20);
      x0 = (x0 + x4) | 0;
      x12 ^= x0;
      x12 = (x12 << 8) | (x12 >>> 24);
      x8 = (x8 + x12) | 0;
      x4 ^= x8;
      x4 = (x4 << 7) | (x4 >>> 25);
      x1 = (x1 + x5) | 0;
      x13 ^= x1;
      x13 = (x13 << 16) | (x13 >>> 16);
      x9 = (x9 + x13) | 0;
      x5 ^= x9;
      x5 = (x5 << 12) | (x5 >>> 20);
      x1 = (x1 + x5) | 0;
      x13 ^= x1;
      x13 = (x13 << 8) | (x13 >>> 24);
      x9 = (x9 + x13) | 0;
      x5 ^= x9;
      x5 = (x5 << 7) | (x5 >>> 25);
      x2 = (x2 + x6) | 0;
      x14 ^= x2;
      x14 = (x14 << 16) | (x14 >>> 16);
      x10 = (x10 + x14) | 0;
      x6 ^= x10;
      x6 = (x6 << 12) | (x6 >>> 20);
      x2 = (x2 + x6) | 0;
      x14 ^= x2;
      x14 = (x14 << 8) | (x14 >>> 24);
      x10 = (x10 + x14) | 0;
      x6 ^= x10;
      x6 = (x6 << 7) | (x6 >>> 25);
      x3 = (x3 + x7) | 0;
      x15 ^= x3;
      x15 = (x15 << 16) | (x15 >>> 16);
      x11 = (x11 + x15) | 0;
      x7 ^= x11;
      x7 = (x7 << 12) | (x7 >>> 20);
      x3 = (x3 + x7) | 0;
      x15 ^= x3;
      x15 = (x15 << 8) | (x15 >>> 24);
      x11 = (x11 + x15) | 0;
      x7 ^= x11;
      x7 = (x7 << 7) | (x7 >>> 25);
      x0 = (x0 + x5) | 0;
      x15 ^= x0;
      x15 = (x15 << 16) | (x15 >>> 16);
      x10 = (x10 + x15) | 0;
      x5 ^= x10;
      x5 = (x5 << 12) | (x5 >>> 20);
      x0 = (x0 + x5) | 0;
      x15 ^= x0;
      x15 = (x15 << 8) | (x15 >>> 24);
      x10 = (x10 + x15) | 0;
      x5 ^= x10;
      x5 = (x5 << 7) | (x5 >>> 25);
      x1 = (x1 + x6) | 0;
      x12 ^= x1;
      x12 = (x12 << 16) | (x12 >>> 16);
      x11 = (x11 + x12) | 0;
      x6 ^= x11;
      x6 = (x6 << 12) | (x6 >>> 20);
      x1 = (x1 + x6) | 0;
      x12 ^= x1;
      x12 = (x12 << 8) | (x12 >>> 24);
      x11 = (x11 + x12) | 0;
      x6 ^= x11;
      x6 = (x6 << 7) | (x6 >>> 25);
      x2 = (x2 + x7) | 0;
      x13 ^= x2;
      x13 = (x13 << 16) | (x13 >>> 16);
      x8 = (x8 + x13) | 0;
      x7 ^= x8;
      x7 = (x7 << 12) | (x7 >>> 20);
      x2 = (x2 + x7) | 0;
      x13 ^= x2;
      x13 = (x13 << 8) | (x13 >>> 24);
      x8 = (x8 + x13) | 0;
      x7 ^= x8;
      x7 = (x7 << 7) | (x7 >>> 25);
      x3 = (x3 + x4) | 0;
      x14 ^= x3;
      x14 = (x14 << 16) | (x14 >>> 16);
      x9 = (x9 + x14) | 0;
      x4 ^= x9;
      x4 = (x4 << 12) | (x4 >>> 20);
      x3 = (x3 + x4) | 0;
      x14 ^= x3;
      x14 = (x14 << 8) | (x14 >>> 24);
      x9 = (x9 + x14) | 0;
      x4 ^= x9;
      x4 = (x4 << 7) | (x4 >>> 25);
    }
    if (o + 16 <= n) {
      if (sign === 1) {
        out[o + 0] = (out[o + 0] as number) + ((x0 + 0x61707865) | 0);
        out[o + 1] = (out[o + 1] as number) + ((x1 + 0x3320646e) | 0);
        out[o + 2] = (out[o + 2] as number) + ((x2 + 0x79622d32) | 0);
        out[o + 3] = (out[o + 3] as number) + ((x3 + 0x6b206574) | 0);
        out[o + 4] = (out[o + 4] as number) + ((x4 + k0) | 0);
        out[o + 5] = (out[o + 5] as number) + ((x5 + k1) | 0);
        out[o + 6] = (out[o + 6] as number) + ((x6 + k2) | 0);
        out[o + 7] = (out[o + 7] as number) + ((x7 + k3) | 0);
        out[o + 8] = (out[o + 8] as number) + ((x8 + k4) | 0);
        out[o + 9] = (out[o + 9] as number) + ((x9 + k5) | 0);
        out[o + 10] = (out[o + 10] as number) + ((x10 + k6) | 0);
        out[o + 11] = (out[o + 11] as number) + ((x11 + k7) | 0);
        out[o + 12] = (out[o + 12] as number) + ((x12 + ctr) | 0);
        out[o + 13] = (out[o + 13] as number) + ((x13 + 0) | 0);
        out[o + 14] = (out[o + 14] as number) + ((x14 + 0) | 0);
        out[o + 15] = (out[o + 15] as number) + ((x15 + 0) | 0);
      } else {
        out[o + 0] = (out[o + 0] as number) - ((x0 + 0x61707865) | 0);
        out[o + 1] = (out[o + 1] as number) - ((x1 + 0x3320646e) | 0);
        out[o + 2] = (out[o + 2] as number) - ((x2 + 0x79622d32) | 0);
        out[o + 3] = (out[o + 3] as number) - ((x3 + 0x6b206574) | 0);
        out[o + 4] = (out[o + 4] as number) - ((x4 + k0) | 0);
        out[o + 5] = (out[o + 5] as number) - ((x5 + k1) | 0);
        out[o + 6] = (out[o + 6] as number) - ((x6 + k2) | 0);
        out[o + 7] = (out[o + 7] as number) - ((x7 + k3) | 0);
        out[o + 8] = (out[o + 8] as number) - ((x8 + k4) | 0);
        out[o + 9] = (out[o + 9] as number) - ((x9 + k5) | 0);
        out[o + 10] = (out[o + 10] as number) - ((x10 + k6) | 0);
        out[o + 11] = (out[o + 11] as number) - ((x11 + k7) | 0);
        out[o + 12] = (out[o + 12] as number) - ((x12 + ctr) | 0);
        out[o + 13] = (out[o + 13] as number) - ((x13 + 0) | 0);
        out[o + 14] = (out[o + 14] as number) - ((x14 + 0) | 0);
        out[o + 15] = (out[o + 15] as number) - ((x15 + 0) | 0);
      }
    } else {
      const w = [
        (x0 + 0x61707865) | 0,
        (x1 + 0x3320646e) | 0,
        (x2 + 0x79622d32) | 0,
        (x3 + 0x6b206574) | 0,
        (x4 + k0) | 0,
        (x5 + k1) | 0,
        (x6 + k2) | 0,
        (x7 + k3) | 0,
        (x8 + k4) | 0,
        (x9 + k5) | 0,
        (x10 + k6) | 0,
        (x11 + k7) | 0,
        (x12 + ctr) | 0,
        (x13 + 0) | 0,
        (x14 + 0) | 0,
        (x15 + 0) | 0,
      ];
      for (let j = 0; o + j < n; j++) out[o + j] = (out[o + j] as number) + sign * (w[j] as number);
    }
  }
}

/** `length` keystream words of `seed` (used for stochastic rounding noise). */
export function keystreamWords(
  seed: Uint8Array,
  length: number,
  keystream: Keystream = portableKeystream,
): Uint32Array {
  const out = new Uint32Array(length);
  keystream.addMask(out, seed, 1);
  return out;
}

/** One mask to add to (sign 1) or remove from (sign -1) a vector. */
export interface MaskJob {
  readonly seed: Uint8Array;
  readonly sign: 1 | -1;
}

/**
 * Where mask words come from. Every implementation yields the ChaCha20 stream of {@link addMask}
 * word for word (the protocol depends on it); they differ only in speed. The portable one runs
 * anywhere; Node injects OpenSSL's (`@fedlearn/core/node`), and a server may add a worker pool.
 */
export interface Keystream {
  readonly name: string;
  /**
   * out[i] += sign · word[from + i] of the stream of `seed`, mod 2^32. `from` is a multiple of 16
   * (a ChaCha20 block), so a vector can be split into independent chunks.
   */
  addMask(out: Uint32Array, seed: Uint8Array, sign: 1 | -1, from?: number): void;
  /** out += Σ sign · stream(seed) over all jobs; when absent, `addMask` per job. */
  addMasks?(out: Uint32Array, jobs: readonly MaskJob[]): void;
}

export const portableKeystream: Keystream = { name: 'portable', addMask };

/** Adds every job's mask to `out` (mod 2^32, so the order does not matter). */
export function applyMasks(keystream: Keystream, out: Uint32Array, jobs: readonly MaskJob[]): void {
  if (keystream.addMasks) keystream.addMasks(out, jobs);
  else for (const { seed, sign } of jobs) keystream.addMask(out, seed, sign);
}

/** Shared argument checks of every keystream implementation. */
export function checkMaskArgs(seed: Uint8Array, from: number): void {
  if (seed.length !== 32)
    throw secaggError('INVALID_ARGUMENT', `mask seeds are 32 bytes, got ${seed.length}`);
  if (!Number.isInteger(from) || from < 0 || from % 16 !== 0 || from / 16 >= 2 ** 32)
    throw secaggError(
      'INVALID_ARGUMENT',
      `a mask chunk starts at a ChaCha20 block (multiple of 16), got ${from}`,
    );
}
