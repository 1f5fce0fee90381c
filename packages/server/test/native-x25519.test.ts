import { portableX25519, seededRandomBytes } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { nativeX25519 } from '../src/native-x25519.js';

describe('nativeX25519', () => {
  it('agrees with the portable X25519, cached keys included', () => {
    const random = seededRandomBytes(7);
    const x25519 = nativeX25519();
    const secrets = [random(32), random(32), random(32)];
    const basePoint = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : 0));
    const publics = secrets.map((s) => portableX25519(s, basePoint));
    for (let round = 0; round < 2; round++) {
      for (const s of secrets) {
        for (const p of publics) expect(x25519(s, p)).toEqual(portableX25519(s, p));
      }
    }
  });
});
