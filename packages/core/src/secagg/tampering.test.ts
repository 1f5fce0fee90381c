import { describe, expect, it } from 'vitest';
import type { FedlearnError } from '../errors.js';
import { liveRound } from './harness.js';
import type { SecAggClientMessage } from './messages.js';
import { packedLength } from './packing.js';
import { SHAMIR_PRIME } from './shamir.js';
import { simulateSecAggRound } from './simulate.js';

type Tamper = (message: SecAggClientMessage) => unknown;

/** Runs a round in which client-1's message of one type is replaced by `tamper(message)`. */
function roundWithTamperedClient(type: SecAggClientMessage['type'], tamper: Tamper, n = 8) {
  return simulateSecAggRound({
    n,
    d: 40,
    seed: 99,
    config: { threshold: 4 },
    tamper: (from, message) => (from === 'client-1' && message.type === type ? tamper(message) : message),
  });
}

function expectRefused(sim: ReturnType<typeof simulateSecAggRound>, code: FedlearnError['code']) {
  expect(sim.rejected.map((e) => [e.code, e.details.clientId])).toContainEqual([code, 'client-1']);
  // The refused message is not used: the client counts as dropped and the sum is still right.
  expect(sim.error).toBeUndefined();
  expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
}

describe('tampering: every bad message is refused with a typed error naming the client', () => {
  it('public keys: wrong length, small order, or one key for both purposes', () => {
    expectRefused(
      roundWithTamperedClient('secagg/advertise-keys', (m) => ({ ...m, encPublicKey: new Uint8Array(31) })),
      'SECAGG_BAD_KEY',
    );
    const zero = new Uint8Array(32);
    expectRefused(
      roundWithTamperedClient('secagg/advertise-keys', (m) => ({ ...m, maskPublicKey: zero })),
      'SECAGG_BAD_KEY',
    );
    expectRefused(
      roundWithTamperedClient('secagg/advertise-keys', (m) =>
        m.type === 'secagg/advertise-keys' ? { ...m, maskPublicKey: m.encPublicKey } : m,
      ),
      'SECAGG_BAD_KEY',
    );
  });

  it('share bundles: truncated, missing, or addressed to a non-neighbour', () => {
    const bundles = (f: (shares: { to: string; ciphertext: Uint8Array }[]) => unknown) =>
      roundWithTamperedClient('secagg/share-keys', (m) =>
        m.type === 'secagg/share-keys' ? { ...m, shares: f(m.shares) } : m,
      );
    expectRefused(
      bundles((s) => s.map((b, i) => (i === 0 ? { ...b, ciphertext: b.ciphertext.subarray(0, 50) } : b))),
      'SECAGG_BAD_SHARE',
    );
    expectRefused(
      bundles((s) => s.slice(1)),
      'SECAGG_BAD_SHARE',
    );
    expectRefused(
      bundles((s) => s.map((b, i) => (i === 0 ? { ...b, to: 'client-1' } : b))),
      'SECAGG_BAD_SHARE',
    );
  });

  it('masked vectors: wrong length, wrong ring, non-zero padding, wrong byte count', () => {
    const vector = (f: (m: { length: number; bits: number; vector: Uint8Array }) => object) =>
      roundWithTamperedClient('secagg/masked-input', (m) =>
        m.type === 'secagg/masked-input' ? { ...m, ...f(m) } : m,
      );
    expectRefused(
      vector((m) => ({ length: m.length - 1 })),
      'SECAGG_BAD_VECTOR',
    );
    // Values of 32 bits where the ring is Z_(2^b), b < 32: outside the ring.
    expectRefused(
      vector((m) => ({ bits: 32, vector: new Uint8Array(packedLength(m.length, 32)).fill(255) })),
      'SECAGG_BAD_VECTOR',
    );
    expectRefused(
      vector((m) => {
        const bytes = m.vector.slice();
        bytes[bytes.length - 1] = 0xff; // the last word's unused high bits
        return { vector: bytes };
      }),
      'SECAGG_BAD_VECTOR',
    );
    expectRefused(
      vector((m) => ({ vector: m.vector.subarray(4) })),
      'SECAGG_BAD_VECTOR',
    );
  });

  it('unmasking shares: out of the field, wrong length, or for the wrong clients', () => {
    const tooBig = new Uint8Array(33).fill(0xff);
    expect(BigInt(`0x${'ff'.repeat(33)}`) >= SHAMIR_PRIME).toBe(true);
    const shares = (f: (s: { owner: string; share: Uint8Array }[]) => unknown) =>
      roundWithTamperedClient('secagg/unmask', (m) =>
        m.type === 'secagg/unmask' ? { ...m, seedShares: f(m.seedShares) } : m,
      );
    expectRefused(
      shares((s) => s.map((x, i) => (i === 0 ? { ...x, share: tooBig } : x))),
      'SECAGG_BAD_SHARE',
    );
    expectRefused(
      shares((s) => s.map((x, i) => (i === 0 ? { ...x, share: x.share.subarray(1) } : x))),
      'SECAGG_BAD_SHARE',
    );
    expectRefused(
      shares((s) => s.map((x, i) => (i === 0 ? { ...x, owner: 'client-1' } : x))),
      'SECAGG_BAD_SHARE',
    );
  });

  it('messages for the wrong stage or round, duplicates, malformed ones, unknown senders', () => {
    const { server, clients } = liveRound();
    const first = clients.get('client-0')!.advertiseKeys();
    server.handle('client-0', first);
    const expectCode = (f: () => unknown, code: string) =>
      expect(f).toThrowError(
        expect.objectContaining({ code, details: expect.objectContaining({ clientId: 'client-0' }) }),
      );
    expectCode(() => server.handle('client-0', first), 'SECAGG_WRONG_STAGE');
    expectCode(
      () => server.handle('client-0', { type: 'secagg/unmask', round: 3, seedShares: [], keyShares: [] }),
      'SECAGG_WRONG_STAGE',
    );
    expectCode(() => server.handle('client-0', { ...first, round: 2 }), 'STALE_ROUND');
    expectCode(
      () => server.handle('client-0', { type: 'secagg/advertise-keys', round: 3 }),
      'MALFORMED_MESSAGE',
    );
    expectCode(() => server.handle('client-0', 'hello'), 'MALFORMED_MESSAGE');
    expect(() => server.handle('mallory', first)).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_CLIENT', details: { clientId: 'mallory' } }),
    );
  });

  it('binary fields may arrive as ArrayBuffers (socket.io in browsers) and are accepted as bytes', () => {
    const sim = simulateSecAggRound({
      n: 5,
      d: 16,
      seed: 7,
      tamper: (_from, message) =>
        message.type === 'secagg/masked-input'
          ? { ...message, vector: message.vector.slice().buffer }
          : message,
    });
    expect(sim.rejected).toEqual([]);
    expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  });
});
