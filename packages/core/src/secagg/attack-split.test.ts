import { describe, expect, it } from 'vitest';
import { toFedlearnError } from '../errors.js';
import { seededRandomBytes } from '../random.js';
import { collectedShares, reduce, runRound, type Transcript } from './attack-kit.js';
import { createSecAggClient } from './client.js';
import type { HeldShare } from './recovery.js';
import { unmaskSum } from './unmasking.js';

// Break 2: with t ≤ k/2, clients that drop after sharing keys can cut the ring-shaped neighbour
// graph into groups with no mask edge between them; the coordinator then unmasks each group's sum
// on its own, with the server's own unmasking code.
const n = 12;
const ids = Array.from({ length: n }, (_, i) => `c${i}`);

/** Components of the survivors' graph. */
function components(t: Transcript, survivors: readonly string[]): string[][] {
  const left = new Set(survivors);
  const out: string[][] = [];
  for (const start of survivors) {
    if (!left.has(start)) continue;
    const group = [start];
    left.delete(start);
    for (let i = 0; i < group.length; i++) {
      for (const nb of t.server.session.neighbours.get(group[i] as string) ?? []) {
        if (left.delete(nb)) group.push(nb);
      }
    }
    out.push(group.sort());
  }
  return out;
}

/** Four clients whose silence at the masking stage splits the other eight into two groups of 4. */
function splittingDropouts(threshold: number): string[] {
  const probe = runRound({ ids, config: { neighbours: 4, threshold }, seed: 21, silentFrom: new Map() });
  for (let mask = 0; mask < 1 << n; mask++) {
    const dropped = ids.filter((_, i) => mask & (1 << i));
    if (dropped.length !== 4) continue;
    const groups = components(
      probe,
      ids.filter((id) => !dropped.includes(id)),
    );
    // Each dropped client keeps t live neighbours, so its masking key can still be rebuilt.
    const rebuildable = dropped.every(
      (d) =>
        (probe.server.session.neighbours.get(d) ?? []).filter((nb) => !dropped.includes(nb)).length >=
        threshold,
    );
    if (rebuildable && groups.length === 2 && groups.every((g) => g.length === 4)) return dropped;
  }
  throw new Error('no split found');
}

function attack(threshold: number) {
  const dropped = splittingDropouts(threshold);
  const t = runRound({
    ids,
    config: { neighbours: 4, threshold },
    seed: 21,
    silentFrom: new Map(dropped.map((id) => [id, 2])),
  });
  const survivors = [...t.masked.keys()];
  const shares = (kind: 'seed' | 'key', owners: readonly string[]) =>
    new Map<string, HeldShare[]>(owners.map((o) => [o, collectedShares(t, o, kind)]));
  const leaked: { group: string[]; sum: number[]; truth: number[] }[] = [];
  for (const group of components(t, survivors)) {
    const maskedSum = new Uint32Array(t.server.params.vectorLength);
    const truth = new Uint32Array(t.server.params.vectorLength);
    for (const id of group) {
      (t.masked.get(id) as Uint32Array).forEach((v, i) => {
        maskedSum[i] = (maskedSum[i] as number) + v;
      });
      (t.secrets.get(id) as Uint32Array).forEach((v, i) => {
        truth[i] = (truth[i] as number) + v;
      });
    }
    try {
      const { sum } = unmaskSum({
        session: t.server.session,
        maskedSum,
        survivors: new Set(group),
        dropped: new Set(dropped),
        maskPublicKeys: new Map([...t.advertised].map(([id, m]) => [id, m.maskPublicKey])),
        seedCommitments: new Map([...t.shareKeys].map(([id, m]) => [id, m.seedCommitment])),
        seedShares: shares('seed', group),
        keyShares: shares('key', dropped),
      });
      leaked.push({
        group,
        sum: Array.from(sum),
        truth: Array.from(reduce(truth, t.server.params.ringBits)),
      });
    } catch {
      // not enough shares handed out to rebuild this group's masks
    }
  }
  return { t, leaked };
}

describe('attack: dropouts split the survivors into separately unmaskable groups', () => {
  it('t = 2 with k = 4 (2t ≤ k) is refused by the coordinator and by every client', () => {
    let serverError: unknown;
    let leakedSums = 0;
    try {
      const { leaked } = attack(2);
      leakedSums = leaked.filter((l) => l.sum.every((v, i) => v === l.truth[i])).length;
    } catch (error) {
      serverError = error;
    }
    expect(leakedSums).toBe(0);
    expect(toFedlearnError(serverError).code).toBe('INVALID_CONFIG');
    // A curious coordinator that writes the setup by hand still finds no client to take part.
    const honest = runRound({ ids, config: { neighbours: 4, threshold: 3 }, seed: 21 });
    const weak = { ...honest.server.setup, config: { ...honest.server.setup.config, threshold: 2 } };
    expect(() => createSecAggClient(weak, 'c0', { randomBytes: seededRandomBytes(1) })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('t = 3 with k = 4: the coordinator refuses to unmask a disconnected survivor graph', () => {
    const { t, leaked } = attack(3);
    expect(t.masked.size).toBe(8);
    expect(t.outcome.kind).toBe('aborted');
    expect(t.outcome.kind === 'aborted' ? t.outcome.error.code : undefined).toBe('SECAGG_GRAPH_DISCONNECTED');
    // No unmasking request went out, so no share was handed over.
    expect(t.unmask.size).toBe(0);
    expect(leaked.filter((l) => l.sum.every((v, i) => v === l.truth[i]))).toEqual([]);
  });
});
