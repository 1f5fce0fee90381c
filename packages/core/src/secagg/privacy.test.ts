import { describe, expect, it } from 'vitest';
import type { SecAggMaskedInput } from './messages.js';
import { packVector, unpackVector } from './packing.js';
import type { SecAggServerRound } from './server.js';
import { simulateSecAggRound } from './simulate.js';

/** χ² statistic of `values` in Z_(2^bits) over 2^binBits equal bins. */
function chiSquare(values: Uint32Array, bits: number, binBits: number): number {
  const bins = new Float64Array(2 ** binBits);
  for (const v of values) {
    const bin = Math.floor(v / 2 ** (bits - binBits));
    bins[bin] = (bins[bin] as number) + 1;
  }
  const expected = values.length / bins.length;
  let chi = 0;
  for (const o of bins) chi += (o - expected) ** 2 / expected;
  return chi;
}
// χ²(63) at p = 0.001.
const CRITICAL_63 = 103.44;

/** Every typed array reachable from `root`, including the server's private fields. */
function reachableArrays(root: unknown): ArrayBufferView[] {
  const seen = new Set<unknown>();
  const found: ArrayBufferView[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      found.push(value);
      return;
    }
    if (value instanceof Map) for (const entry of value) visit(entry);
    else if (value instanceof Set || Array.isArray(value)) for (const v of value) visit(v);
    else for (const v of Object.values(value)) visit(v);
  };
  visit(root);
  return found;
}

function sameValues(a: ArrayBufferView, b: ArrayLike<number>): boolean {
  const view = a as unknown as ArrayLike<number>;
  if (view.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (view[i] !== b[i]) return false;
  return true;
}

describe('privacy: what the coordinator sees', () => {
  it('a masked constant update is statistically indistinguishable from uniform (χ² test)', () => {
    const captured: SecAggMaskedInput[] = [];
    const sim = simulateSecAggRound({
      n: 6,
      d: 20_000,
      seed: 21,
      config: { quantizationBits: 8, maxWeight: 50 },
      observe: (_from, message) => {
        if ((message as SecAggMaskedInput).type === 'secagg/masked-input')
          captured.push(message as SecAggMaskedInput);
      },
      makeInput: (_id, d) => ({ update: new Float32Array(d).fill(0.25), weight: 50 }),
    });
    const { ringBits, vectorLength } = sim.server.params;
    expect(captured).toHaveLength(6);
    for (const message of captured) {
      const values = unpackVector(message.vector, vectorLength, ringBits)!;
      expect(chiSquare(values, ringBits, 6)).toBeLessThan(CRITICAL_63);
    }
    // The same test has power: the unmasked vector of that constant update fails it badly.
    const plain = sim.quantized.get('client-0')!;
    expect(chiSquare(plain, ringBits, 6)).toBeGreaterThan(100 * CRITICAL_63);
    expect(Array.from(sim.result!.ringSum)).toEqual(Array.from(sim.expectedRingSum));
  });

  it('the server never holds an unmasked individual update, at any point of the round', () => {
    const checkServer = (server: SecAggServerRound, individual: Map<string, ArrayLike<number>[]>) => {
      for (const array of reachableArrays(server)) {
        for (const [id, forms] of individual) {
          for (const form of forms)
            expect(sameValues(array, form), `server holds ${id}'s update`).toBe(false);
        }
      }
    };
    const individual = new Map<string, ArrayLike<number>[]>();
    const formsOf = (quantized: ReadonlyMap<string, Uint32Array>, server: SecAggServerRound) => {
      if (individual.size === 0) {
        for (const [id, q] of quantized) {
          individual.set(id, [q, packVector(q, server.params.ringBits), q.subarray(1)]);
        }
      }
      return individual;
    };
    const sim = simulateSecAggRound({
      n: 7,
      d: 300,
      seed: 17,
      dropouts: { 'masked-input': 1, unmask: 1 },
      observe: (_from, _message, server, quantized) => checkServer(server, formsOf(quantized, server)),
    });
    for (const [id, input] of sim.inputs) individual.get(id)?.push(input.update);
    checkServer(sim.server, individual);
    // The walk does see the server's private state (the running sum among it).
    expect(
      reachableArrays(sim.server).some(
        (a) => a === (sim.server as unknown as { maskedSum: unknown }).maskedSum,
      ),
    ).toBe(true);
    expect(sim.result!.survivors.length).toBeGreaterThan(1);
    expect([...sim.inputs.values()].every((input) => input.weight > 0)).toBe(true);
  });

  it('never asks for both secrets of one client: seeds only of survivors, keys only of dropped clients', () => {
    const sim = simulateSecAggRound({ n: 10, d: 20, seed: 3, dropouts: { 'masked-input': 2 } });
    const internals = sim.server as unknown as {
      seedShares: Map<string, unknown>;
      keyShares: Map<string, unknown>;
    };
    const survivors = new Set(sim.result!.survivors);
    for (const owner of internals.seedShares.keys()) expect(survivors.has(owner)).toBe(true);
    for (const owner of internals.keyShares.keys()) expect(survivors.has(owner)).toBe(false);
    expect(internals.keyShares.size).toBe(2);
  });

  it('an aborted round keeps no sum, so a lone survivor is never unmasked', () => {
    const sim = simulateSecAggRound({ n: 6, d: 50, seed: 6, dropouts: { 'masked-input': 5 } });
    expect(sim.outcome.kind).toBe('aborted');
    const internals = sim.server as unknown as { maskedSum: Uint32Array };
    expect(internals.maskedSum.every((v) => v === 0)).toBe(true);
  });
});
