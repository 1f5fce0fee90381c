import { describe, expect, it } from 'vitest';
import * as core from '../index.js';
import { cappedMaxWeight, resolveSecAggParams } from './config.js';
import { deriveKey, pairBinding } from './keys.js';
import { interpolate, reconstructSecret } from './shamir.js';

describe('hardening (issue 8, item 5)', () => {
  it('Shamir interpolation refuses two shares with the same x instead of returning a wrong secret', () => {
    const points = [
      { x: 1, y: 5n },
      { x: 1, y: 9n },
      { x: 3, y: 11n },
    ];
    const refused = expect.objectContaining({ code: 'SECAGG_INCONSISTENT_SHARES' });
    expect(() => interpolate(points)).toThrow(refused);
    expect(() => reconstructSecret(points, 3)).toThrow(refused);
  });

  it('a pairwise key is bound to both ids and both public keys', () => {
    const secret = new Uint8Array(32).fill(7);
    const context = new Uint8Array(32).fill(1);
    const key = (id: string, index: number, fill: number) => ({
      id,
      index,
      publicKey: new Uint8Array(32).fill(fill),
    });
    const ab = deriveKey(secret, context, 'pairwise-mask', pairBinding(key('a', 0, 1), key('b', 1, 2)));
    // The same pair seen from the other side derives the same key...
    expect(deriveKey(secret, context, 'pairwise-mask', pairBinding(key('b', 1, 2), key('a', 0, 1)))).toEqual(
      ab,
    );
    // ...but another id, or another public key, with the same shared secret does not.
    expect(
      deriveKey(secret, context, 'pairwise-mask', pairBinding(key('a', 0, 1), key('c', 1, 2))),
    ).not.toEqual(ab);
    expect(
      deriveKey(secret, context, 'pairwise-mask', pairBinding(key('a', 0, 1), key('b', 1, 3))),
    ).not.toEqual(ab);
  });

  it('one inflated numExamples announcement no longer makes every round overflow', () => {
    const announced = [120, 80, 2 ** 31, 95];
    const maxWeight = cappedMaxWeight(announced, announced.length, 16);
    const params = resolveSecAggParams(
      { dimension: 10, clipRange: 1, quantizationBits: 16, maxWeight },
      announced.length,
    );
    expect(params.ringBits).toBeLessThanOrEqual(32);
    // Honest announcements below the cap are kept as they are.
    expect(cappedMaxWeight([120, 80, 95], 3, 16)).toBe(120);
  });

  it('the seeded simulation is not part of the main export', () => {
    expect('simulateSecAggRound' in core).toBe(false);
    expect('SECAGG_CLIENT_STAGES' in core).toBe(false);
  });
});
