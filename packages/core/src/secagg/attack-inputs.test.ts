import { describe, expect, it } from 'vitest';
import { runRound } from './attack-kit.js';
import type { SecAggClientMessage } from './messages.js';
import { packVector, unpackVector } from './packing.js';

const ids = ['c0', 'c1', 'c2', 'c3', 'c4'];
// maxWeight 10: five honest clients sum to at most 50.
const config = { maxWeight: 10, neighbours: 4, threshold: 3 };

/** The malicious client adds `delta` (mod 2^b) to its masked vector: the same as choosing its input. */
function shifted(m: SecAggClientMessage, delta: (i: number) => number): SecAggClientMessage {
  if (m.type !== 'secagg/masked-input') return m;
  const values = unpackVector(m.vector, m.length, m.bits) as Uint32Array;
  for (let i = 0; i < values.length; i++) values[i] = ((values[i] as number) + delta(i)) >>> 0;
  return { ...m, vector: packVector(values, m.bits) };
}

describe('attack: a client sends an input outside what honest clients can send', () => {
  it('an inflated weight (8000 added; five honest clients sum to at most 50) fails the round', () => {
    const t = runRound({
      ids,
      config,
      seed: 41,
      toServer: (from, m) => (from === 'c1' ? shifted(m, (i) => (i === 0 ? 8000 : 0)) : m),
    });
    expect(t.outcome.kind === 'done' ? t.outcome.result.sumWeights : undefined).toBeUndefined();
    expect(t.outcome.kind === 'aborted' ? t.outcome.error.code : undefined).toBe('SECAGG_INPUT_OUT_OF_RANGE');
  });

  it('a coordinate that wraps the ring fails the round', () => {
    const t = runRound({
      ids,
      config,
      seed: 42,
      // -1 mod 2^b on the first coordinate: the sum wraps below zero.
      toServer: (from, m) => (from === 'c2' ? shifted(m, (i) => (i === 1 ? -1 - 255 * 50 : 0)) : m),
    });
    expect(t.outcome.kind).toBe('aborted');
    expect(t.outcome.kind === 'aborted' ? t.outcome.error.code : undefined).toBe('SECAGG_INPUT_OUT_OF_RANGE');
  });
});

describe('attack: the coordinator asks for shares it must not get', () => {
  it('an unmask request listing fewer than t survivors gets no share', () => {
    const t = runRound({
      ids,
      config,
      seed: 43,
      // Tell c0 that everyone else dropped: its key shares would then let t - 1 others finish the job.
      toClient: (to, m) =>
        to === 'c0' && m.type === 'secagg/unmask-request'
          ? { ...m, survivors: [], dropped: [...m.survivors, ...m.dropped] }
          : m,
    });
    expect(t.unmask.has('c0')).toBe(false);
    expect(t.clientErrors.get('c0')?.code).toBe('SECAGG_BELOW_THRESHOLD');
  });
});

describe('attack: one forged share bundle', () => {
  it('is reported with its sender; the receiver goes on and the round completes', () => {
    const t = runRound({
      ids,
      config,
      seed: 44,
      // c3 seals garbage for c0.
      toServer: (from, m) =>
        from === 'c3' && m.type === 'secagg/share-keys'
          ? {
              ...m,
              shares: m.shares.map((s) =>
                s.to === 'c0' ? { ...s, ciphertext: s.ciphertext.map((b) => b ^ 1) } : s,
              ),
            }
          : m,
    });
    expect(t.clientErrors.has('c0')).toBe(false);
    expect(t.outcome.kind).toBe('done');
    if (t.outcome.kind !== 'done') return;
    expect(t.outcome.result.survivors).toEqual(ids);
    expect(t.outcome.result.faults.map((f) => [f.code, f.details.clientId])).toEqual([
      ['SECAGG_DECRYPTION_FAILED', 'c3'],
    ]);
    const expected = new Uint32Array(t.server.params.vectorLength);
    for (const s of t.secrets.values()) {
      s.forEach((v, i) => {
        expected[i] = (expected[i] as number) + v;
      });
    }
    expect(Array.from(t.outcome.result.ringSum)).toEqual(Array.from(expected));
  });
});
