import { chacha20 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { createRng, seededRandomBytes } from '../random.js';
import { nativeAddMask, nativeAddMasks, nativeKeystream } from './native-keystream.js';
import { addMask, keystreamWords } from './prg.js';
import { simulateSecAggRound } from './simulate.js';

describe('native ChaCha20 keystream (node:crypto)', () => {
  it('gives the RFC 8439 test vector 2.4.2 keystream of the protocol layout (counter 1, zero nonce)', () => {
    // RFC 8439 §2.3.2 block function with key 00..1f is a counter-1 block; here the known answer
    // is the first block of the all-zero key, zero nonce, counter 0 (RFC 8439 appendix A.1, #1).
    const words = new Uint32Array(16);
    nativeAddMask(words, new Uint8Array(32), 1);
    const bytes = new Uint8Array(words.buffer);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7' +
        'da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
    );
  });

  it('is word for word the portable stream over random seeds, lengths, offsets and signs', () => {
    const random = seededRandomBytes(41);
    const rng = createRng(41);
    for (let trial = 0; trial < 16; trial++) {
      const seed = random(32);
      const length = rng.int(20_000) + 1;
      const from = 16 * rng.int(5000);
      const sign = rng.int(2) === 0 ? 1 : -1;
      const start = Uint32Array.from({ length }, () => rng.int(2 ** 32));
      const portable = start.slice();
      const native = start.slice();
      addMask(portable, seed, sign, from);
      nativeAddMask(native, seed, sign, from);
      expect(native).toEqual(portable);
    }
  }, 30_000);

  it('an offset stream continues the whole stream, and both match @noble/ciphers', () => {
    const seed = seededRandomBytes(42)(32);
    const whole = keystreamWords(seed, 5000, nativeKeystream());
    const tail = new Uint32Array(5000 - 1024);
    nativeAddMask(tail, seed, 1, 1024);
    expect(tail).toEqual(whole.subarray(1024));
    const reference = chacha20(seed, new Uint8Array(12), new Uint8Array(4 * 5000));
    expect(new Uint32Array(reference.buffer)).toEqual(whole);
  });

  it('refuses a short seed or an offset inside a block, like the portable one', () => {
    for (const f of [addMask, nativeAddMask]) {
      expect(() => f(new Uint32Array(4), new Uint8Array(16), 1)).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      expect(() => f(new Uint32Array(4), new Uint8Array(32), 1, 8)).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('whole rounds give bit-identical sums with the native and the portable keystream (random seeds)', () => {
    const rng = createRng(43);
    for (let trial = 0; trial < 3; trial++) {
      const seed = rng.int(2 ** 31);
      const options = { n: 7, d: 100 + rng.int(200), seed, dropouts: { 'masked-input': 2 } } as const;
      const portable = simulateSecAggRound(options);
      const native = simulateSecAggRound({
        ...options,
        serverKeystream: nativeKeystream(),
        clientKeystream: nativeKeystream(),
      });
      expect(native.result?.ringSum).toEqual(portable.result?.ringSum);
      expect(Array.from(native.result?.ringSum ?? [])).toEqual(Array.from(native.expectedRingSum));
    }
  }, 30_000);
});

describe('native batched expansion (chunk-major)', () => {
  it('adds every job like the portable one, job by job, for random seeds, signs and offsets', () => {
    const rng = createRng(44);
    const random = seededRandomBytes(44);
    for (let trial = 0; trial < 6; trial++) {
      const length = 1 + rng.int(40_000);
      const from = 16 * rng.int(100);
      const jobs = Array.from({ length: 1 + rng.int(5) }, () => ({
        seed: random(32),
        sign: (rng.int(2) === 0 ? 1 : -1) as 1 | -1,
      }));
      const start = Uint32Array.from({ length }, () => rng.int(2 ** 32));
      const expected = start.slice();
      for (const { seed, sign } of jobs) addMask(expected, seed, sign, from);
      const got = start.slice();
      nativeAddMasks(got, jobs, from);
      expect(got).toEqual(expected);
    }
  }, 30_000);
});
