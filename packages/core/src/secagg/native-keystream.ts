import { type Cipher, createCipheriv } from 'node:crypto';
import { endianness } from 'node:os';
import { checkMaskArgs, type Keystream, type MaskJob, portableKeystream } from './prg.js';

/** Words expanded per step: 64 KiB of keystream stays in cache while it is added. */
const CHUNK_WORDS = 16_384;
const ZEROS = new Uint8Array(CHUNK_WORDS * 4);

/**
 * ChaCha20 (RFC 8439) from OpenSSL through node:crypto: the same words as the portable
 * {@link addMask}, several times faster. OpenSSL's 16-byte IV is the 32-bit little-endian block
 * counter followed by the 96-bit nonce, here zero (every seed is used for one stream only).
 * Node only: core's main export stays browser-safe, Node code imports this from `@fedlearn/core/node`.
 */
export function nativeAddMask(out: Uint32Array, seed: Uint8Array, sign: 1 | -1, from = 0): void {
  checkMaskArgs(seed, from);
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setUint32(0, from / 16, true);
  const cipher = createCipheriv('chacha20', seed, iv);
  const n = out.length;
  for (let o = 0; o < n; o += CHUNK_WORDS) {
    const len = Math.min(CHUNK_WORDS, n - o);
    const words = asWords(cipher.update(ZEROS.subarray(0, 4 * len)), len);
    // Fused with the expansion, chunk by chunk, while the words are still in cache.
    if (sign === 1) for (let i = 0; i < len; i++) out[o + i] = (out[o + i] as number) + (words[i] as number);
    else for (let i = 0; i < len; i++) out[o + i] = (out[o + i] as number) - (words[i] as number);
  }
}

/**
 * out += Σ sign · stream(seed) over all jobs, each stream starting at word `from`. Chunk-major: one
 * cipher per job stays open, and each chunk of `out` takes every job's words while it is in cache,
 * so `out` crosses memory once instead of once per job.
 */
export function nativeAddMasks(out: Uint32Array, jobs: readonly MaskJob[], from = 0): void {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setUint32(0, from / 16, true);
  const ciphers = jobs.map(({ seed }) => {
    checkMaskArgs(seed, from);
    return createCipheriv('chacha20', seed, iv);
  });
  const n = out.length;
  for (let o = 0; o < n; o += CHUNK_WORDS) {
    const len = Math.min(CHUNK_WORDS, n - o);
    const zeros = ZEROS.subarray(0, 4 * len);
    for (let j = 0; j < jobs.length; j++) {
      const words = asWords((ciphers[j] as Cipher).update(zeros), len);
      if ((jobs[j] as MaskJob).sign === 1)
        for (let i = 0; i < len; i++) out[o + i] = (out[o + i] as number) + (words[i] as number);
      else for (let i = 0; i < len; i++) out[o + i] = (out[o + i] as number) - (words[i] as number);
    }
  }
}

/** The keystream bytes as little-endian words (copied only when Node's buffer pool misaligned them). */
function asWords(bytes: Uint8Array, len: number): Uint32Array {
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, len);
  return new Uint32Array(Uint8Array.from(bytes).buffer, 0, len);
}

/**
 * Node's native keystream; the portable one on a big-endian machine, where the keystream bytes
 * would not read as the protocol's little-endian words.
 */
export function nativeKeystream(): Keystream {
  return endianness() === 'LE'
    ? { name: 'native', addMask: nativeAddMask, addMasks: (out, jobs) => nativeAddMasks(out, jobs) }
    : portableKeystream;
}
