import { describe, expect, it } from 'vitest';
import { portableX25519, type X25519 } from './keys.js';
import { packedLength } from './packing.js';
import { simulateSecAggRound } from './simulate.js';

describe('simulateSecAggRound', () => {
  it('is deterministic in its seed', () => {
    const a = simulateSecAggRound({ n: 6, d: 20, seed: 11, dropouts: { 'share-keys': 1 } });
    const b = simulateSecAggRound({ n: 6, d: 20, seed: 11, dropouts: { 'share-keys': 1 } });
    expect(a.result!.ringSum).toEqual(b.result!.ringSum);
    expect([...a.droppedAt]).toEqual([...b.droppedAt]);
  });

  it('with stand-ins for most clients still drives the server through every stage', () => {
    const seen: string[] = [];
    const sim = simulateSecAggRound({
      n: 30,
      d: 50,
      seed: 12,
      realClients: 3,
      dropouts: { 'masked-input': 3 },
      measure: (what, _id, run) => {
        seen.push(what);
        return run();
      },
    });
    // Stand-ins upload random vectors, so the unmasked sum fails the range check that ends the round.
    expect(sim.outcome.kind === 'aborted' ? sim.outcome.error.code : sim.outcome.kind).toBe(
      'SECAGG_INPUT_OUT_OF_RANGE',
    );
    expect(sim.expectedRingSum).toHaveLength(0);
    expect(new Set(seen)).toEqual(
      new Set([
        'client:advertise-keys',
        'client:share-keys',
        'client:masked-input',
        'client:unmask',
        'server:advertise-keys',
        'server:share-keys',
        'server:masked-input',
        'server:unmask',
      ]),
    );
    const p = sim.server.params;
    expect(sim.uploadedBytes.get('client-0')!).toBeGreaterThan(packedLength(p.vectorLength, p.ringBits));
  });

  it('uses an injected X25519 on the server to rebuild dropped clients\u2019 pairwise masks', () => {
    let calls = 0;
    const counting: X25519 = (sk, pk) => {
      calls++;
      return portableX25519(sk, pk);
    };
    const options = { n: 8, d: 40, seed: 13, dropouts: { 'masked-input': 2 } } as const;
    const sim = simulateSecAggRound({ ...options, serverX25519: counting });
    expect(calls).toBeGreaterThan(0);
    expect(sim.result!.ringSum).toEqual(simulateSecAggRound(options).result!.ringSum);
    expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  });
});
