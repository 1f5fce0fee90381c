import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../random.js';
import { collectedShares, reduce, runRound, stripSelfMask, type Transcript } from './attack-kit.js';
import { createSecAggClient } from './client.js';
import { generateIdentity } from './identity.js';
import { generateKeyPair } from './keys.js';
import type { SecAggServerMessage } from './messages.js';
import type { SecAggOutbound } from './round-types.js';
import { simulateSecAggRound } from './simulate.js';

// Seven clients, complete graph (k = 6), t = 4: the malicious-server mode, Bonawitz et al. §6.
const ids = ['A', 'B', 'C', 'T', 'D', 'E', 'F'];
const config = { neighbours: 6, threshold: 4 };

const plainSum = (t: Transcript, who: readonly string[]) => {
  const sum = new Uint32Array(t.server.params.vectorLength);
  for (const id of who) {
    (t.secrets.get(id) as Uint32Array).forEach((v, i) => {
      sum[i] = (sum[i] as number) + v;
    });
  }
  return Array.from(reduce(sum, t.server.params.ringBits));
};

const request = (to: string, message: SecAggServerMessage): SecAggOutbound => ({ to, message });

describe('malicious-server mode', () => {
  it('an honest round signs, checks and sums exactly', () => {
    const t = runRound({ ids, config, seed: 51, malicious: true });
    expect(t.outcome.kind).toBe('done');
    expect(t.consistency.size).toBe(7);
    expect(t.outcome.kind === 'done' ? Array.from(t.outcome.result.ringSum) : []).toEqual(plainSum(t, ids));
  });

  it('(a) a coordinator that tells D, E, F that T dropped (and the others that T survived) is caught by D, E, F', () => {
    const fake = ids.filter((id) => id !== 'T');
    const t = runRound({
      ids,
      config,
      seed: 52,
      malicious: true,
      reroute: (stage, messages, seen) => {
        if (stage === 3) {
          return messages.map((m) =>
            ['D', 'E', 'F'].includes(m.to) && m.message.type === 'secagg/consistency-request'
              ? request(m.to, { ...m.message, survivors: fake })
              : m,
          );
        }
        if (stage !== 4) return messages;
        // Every signature it has, and a request that asks D, E, F for T's masking-key shares.
        const signatures = [...seen.consistency].map(([clientId, c]) => ({
          clientId,
          signature: c.signature,
        }));
        const told = ['D', 'E', 'F'].map((to) =>
          request(to, {
            type: 'secagg/unmask-request',
            round: 3,
            survivors: fake.filter((id) => id !== to),
            dropped: ['T'],
            signatures,
          }),
        );
        return [...messages, ...told];
      },
    });
    for (const id of ['D', 'E', 'F']) {
      expect(t.clientErrors.get(id)?.code, id).toBe('SECAGG_INCONSISTENT_VIEW');
      expect(t.unmask.has(id), id).toBe(false);
    }
    // T's masking key never leaves its holders, so T's pairwise masks stay on its vector.
    expect(collectedShares(t, 'T', 'key')).toEqual([]);
    expect(Array.from(stripSelfMask(t, 'T') ?? [])).not.toEqual(
      Array.from(t.secrets.get('T') as Uint32Array),
    );
  });

  it('(b) a coordinator that swaps a neighbour’s key is caught before any share is sent', () => {
    const swapped = generateKeyPair(seededRandomBytes(99)).publicKey;
    const t = runRound({
      ids,
      config,
      seed: 53,
      malicious: true,
      toClient: (to, m) =>
        to === 'A' && m.type === 'secagg/keys'
          ? { ...m, keys: m.keys.map((k) => (k.clientId === 'T' ? { ...k, maskPublicKey: swapped } : k)) }
          : m,
    });
    expect(t.clientErrors.get('A')?.code).toBe('SECAGG_BAD_SIGNATURE');
    expect(t.clientErrors.get('A')?.details.clientId).toBe('T');
    expect(t.shareKeys.has('A')).toBe(false);
  });

  it('(b) a coordinator that swaps a participant’s identity key in the setup is refused by every client', () => {
    const honest = runRound({ ids, config, seed: 54, malicious: true });
    const forged = generateIdentity(seededRandomBytes(98)).publicKey;
    const setup = {
      ...honest.server.setup,
      identities: honest.server.setup.identities?.map((e) =>
        e.clientId === 'T' ? { ...e, publicKey: forged } : e,
      ),
    };
    const pinned = new Map(honest.server.setup.identities?.map((e) => [e.clientId, e.publicKey]));
    const identity = generateIdentity(seededRandomBytes(7000));
    expect(() =>
      createSecAggClient(setup, 'A', { randomBytes: seededRandomBytes(1), identity: { identity, pinned } }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_BAD_SIGNATURE' }));
  });

  it('(c) a coordinator that withholds consistency signatures gets no share at all', () => {
    const t = runRound({
      ids,
      config,
      seed: 55,
      malicious: true,
      reroute: (stage, messages) =>
        stage !== 4
          ? messages
          : messages.map((m) =>
              m.message.type === 'secagg/unmask-request'
                ? request(m.to, { ...m.message, signatures: (m.message.signatures ?? []).slice(0, 3) })
                : m,
            ),
    });
    expect(t.unmask.size).toBe(0);
    for (const id of ids) expect(t.clientErrors.get(id)?.code, id).toBe('SECAGG_INCONSISTENT_VIEW');
  });

  it('a semi-honest setup is refused by a client whose policy requires the malicious mode', () => {
    const honest = runRound({ ids, config, seed: 56 });
    expect(() =>
      createSecAggClient(honest.server.setup, 'A', {
        randomBytes: seededRandomBytes(1),
        policy: { requireMaliciousMode: true },
      }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_POLICY_REFUSED' }));
  });

  it('survives dropouts at every stage, the consistency check included, with the exact sum', () => {
    const sim = simulateSecAggRound({
      n: 10,
      d: 12,
      seed: 57,
      mode: 'malicious',
      config: { neighbours: 9, threshold: 5 },
      dropouts: { 'share-keys': 1, 'masked-input': 1, consistency: 1, unmask: 1 },
    });
    expect(sim.outcome.kind).toBe('done');
    expect(sim.result?.survivors).toHaveLength(8);
    expect(Array.from(sim.result?.ringSum ?? [])).toEqual(Array.from(sim.expectedRingSum));
  });
});
