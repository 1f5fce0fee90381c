import { describe, expect, it } from 'vitest';
import { isFedlearnError } from '../errors.js';
import { seededRandomBytes } from '../random.js';
import type { SecAggClientMessage } from './messages.js';
import { type HeldShare, recoverSecret } from './recovery.js';
import {
  bigintToBytes,
  bytesToBigint,
  parseShare,
  SHAMIR_PRIME,
  SHARE_BYTES,
  splitSecret,
} from './shamir.js';
import { simulateSecAggRound } from './simulate.js';

const bump = (share: Uint8Array) => bigintToBytes((bytesToBigint(share) + 1n) % SHAMIR_PRIME, SHARE_BYTES);

function heldShares(secret: Uint8Array, t: number, m: number): HeldShare[] {
  const xs = Array.from({ length: m }, (_, i) => i + 1);
  return splitSecret(secret, t, xs, seededRandomBytes(4)).map((share, i) => ({
    holder: `h${i + 1}`,
    x: xs[i] as number,
    y: parseShare(share) as bigint,
  }));
}

describe('a share that does not fit the others', () => {
  const secret = seededRandomBytes(8)(32);
  const isSecret = (s: Uint8Array) => s.every((b, i) => b === secret[i]);

  it('is found among more than t shares, named, and left out', () => {
    for (let bad = 0; bad < 6; bad++) {
      const shares = heldShares(secret, 4, 6);
      shares[bad] = { ...(shares[bad] as HeldShare), y: ((shares[bad] as HeldShare).y + 5n) % SHAMIR_PRIME };
      const out = recoverSecret('owner', 'seed', shares, 4, isSecret);
      expect(isSecret(out.secret)).toBe(true);
      expect(out.faults.map((f) => [f.code, f.details.clientId])).toEqual([
        ['SECAGG_BAD_SHARE', `h${bad + 1}`],
      ]);
    }
  });

  it('with exactly t shares cannot be attributed, so the secret is refused rather than guessed', () => {
    const shares = heldShares(secret, 4, 4);
    shares[0] = { ...(shares[0] as HeldShare), y: 1n };
    expect(() => recoverSecret('owner', 'seed', shares, 4, isSecret)).toThrowError(
      expect.objectContaining({
        code: 'SECAGG_INCONSISTENT_SHARES',
        details: expect.objectContaining({ clientId: 'owner' }),
      }),
    );
  });

  it('fewer than t shares is below threshold', () => {
    expect(() => recoverSecret('owner', 'seed', heldShares(secret, 4, 3), 4, isSecret)).toThrowError(
      expect.objectContaining({ code: 'SECAGG_BELOW_THRESHOLD' }),
    );
  });

  const corruptFirst = (field: 'seedShares' | 'keyShares') => (from: string, m: SecAggClientMessage) =>
    from === 'client-1' && m.type === 'secagg/unmask' && m[field].length > 0
      ? { ...m, [field]: m[field].map((s, i) => (i === 0 ? { ...s, share: bump(s.share) } : s)) }
      : m;

  it('in a round, a wrong seed share is attributed to its sender and the sum stays exact', () => {
    const sim = simulateSecAggRound({
      n: 9,
      d: 30,
      seed: 44,
      config: { threshold: 4 },
      tamper: corruptFirst('seedShares'),
    });
    expect(sim.error).toBeUndefined();
    expect(sim.result!.faults.map((f) => [f.code, f.details.clientId])).toEqual([
      ['SECAGG_BAD_SHARE', 'client-1'],
    ]);
    expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  });

  it('in a round, a wrong share of a dropped client\u2019s masking key is attributed too', () => {
    const sim = simulateSecAggRound({
      n: 9,
      d: 30,
      seed: 45,
      config: { threshold: 4 },
      dropouts: { 'masked-input': 2 },
      tamper: corruptFirst('keyShares'),
    });
    expect(sim.error).toBeUndefined();
    expect(sim.result!.faults.map((f) => [f.code, f.details.clientId])).toEqual([
      ['SECAGG_BAD_SHARE', 'client-1'],
    ]);
    expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  });

  it('in a round with no spare share, a wrong one aborts it: never a wrong sum', () => {
    const sim = simulateSecAggRound({
      n: 5,
      d: 30,
      seed: 46,
      config: { threshold: 4 },
      tamper: corruptFirst('seedShares'),
    });
    expect(sim.outcome.kind).toBe('aborted');
    expect(isFedlearnError(sim.error, 'SECAGG_INCONSISTENT_SHARES')).toBe(true);
    expect(sim.result).toBeUndefined();
  });
});
