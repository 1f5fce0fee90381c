import { chacha20 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../random.js';
import { addMask, keystreamWords } from './prg.js';

describe('ChaCha20 mask expansion', () => {
  it('is word for word the RFC 8439 ChaCha20 keystream of @noble/ciphers (zero nonce, counter 0)', () => {
    const random = seededRandomBytes(1);
    for (const length of [1, 15, 16, 17, 1000, 4099]) {
      const seed = random(32);
      const reference = chacha20(seed, new Uint8Array(12), new Uint8Array(4 * length));
      const view = new DataView(reference.buffer);
      const words = keystreamWords(seed, length);
      for (let i = 0; i < length; i++) expect(words[i]).toBe(view.getUint32(4 * i, true));
    }
  });

  it('adding then subtracting the same mask is the identity mod 2^32', () => {
    const seed = seededRandomBytes(2)(32);
    const v = Uint32Array.from({ length: 333 }, (_, i) => i * 2654435761);
    const copy = v.slice();
    addMask(v, seed, 1);
    expect(v).not.toEqual(copy);
    addMask(v, seed, -1);
    expect(v).toEqual(copy);
  });

  it('refuses a seed that is not 256 bits', () => {
    expect(() => addMask(new Uint32Array(4), new Uint8Array(16), 1)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
