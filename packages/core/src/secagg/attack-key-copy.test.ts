import { describe, expect, it } from 'vitest';
import { runRound, stripSelfMask } from './attack-kit.js';
import type { SecAggClientMessage, SecAggServerMessage } from './messages.js';

// Break 1: T's neighbours A, B sit below it in index order and the colluders C1, C2 above it, so
// T adds -mask(T,A), -mask(T,B), +mask(T,C1), +mask(T,C2). If C1 carries A's masking key and C2
// B's, those four masks cancel and T's vector is its input plus its self mask, which the coordinator
// legitimately rebuilds at unmasking. Two colluders, t = 3: fewer than t.
const ids = ['A', 'B', 'T', 'C1', 'C2'];
const copies: Record<string, string> = { C1: 'A', C2: 'B' };
const config = { neighbours: 4, threshold: 3 };

function flipTopBit(key: Uint8Array): Uint8Array {
  const out = key.slice();
  out[31] = (out[31] as number) ^ 0x80;
  return out;
}

describe('attack: a colluding neighbour re-advertises an honest neighbour’s masking key', () => {
  it.each([
    ['the same bytes', (k: Uint8Array) => k],
    ['bit 255 flipped (same X25519 point)', flipTopBit],
  ])('copied through an honest coordinator (%s): refused, T’s input stays hidden', (_name, encode) => {
    const t = runRound({
      ids,
      config,
      seed: 11,
      // Colluders advertise a copy of their victim's key in place of their own.
      // Colluders (advertising after A and B) copy what the coordinator shows them.
      toServer: (from, m: SecAggClientMessage, seen) => {
        const victim = copies[from];
        if (m.type !== 'secagg/advertise-keys' || victim === undefined) return m;
        const real = seen.advertised.get(victim)?.maskPublicKey as Uint8Array;
        return { ...m, maskPublicKey: encode(real) };
      },
    });
    const recovered = stripSelfMask(t, 'T');
    expect(recovered === undefined ? undefined : Array.from(recovered)).not.toEqual(
      Array.from(t.secrets.get('T') as Uint32Array),
    );
    // The coordinator names both copies at the advertise stage.
    expect(t.refused.map((e) => [e.code, e.details.clientId]).sort()).toEqual([
      ['SECAGG_BAD_KEY', 'C1'],
      ['SECAGG_BAD_KEY', 'C2'],
    ]);
  });

  it.each([
    ['the same bytes', (k: Uint8Array) => k],
    ['bit 255 flipped', flipTopBit],
  ])('forwarded by a coordinator that skips its own check (%s): T refuses the key set', (_name, encode) => {
    const t = runRound({
      ids,
      config,
      seed: 12,
      toClient: (to, m: SecAggServerMessage) => {
        if (to !== 'T' || m.type !== 'secagg/keys') return m;
        const mask = new Map(m.keys.map((k) => [k.clientId, k.maskPublicKey]));
        return {
          ...m,
          keys: m.keys.map((k) => {
            const victim = copies[k.clientId];
            return victim === undefined ? k : { ...k, maskPublicKey: encode(mask.get(victim) as Uint8Array) };
          }),
        };
      },
    });
    const recovered = stripSelfMask(t, 'T');
    expect(recovered === undefined ? undefined : Array.from(recovered)).not.toEqual(
      Array.from(t.secrets.get('T') as Uint32Array),
    );
    expect(t.clientErrors.get('T')?.code).toBe('SECAGG_BAD_KEY');
    expect(t.masked.has('T')).toBe(false);
  });

  it('a neighbour advertising the client’s own key is refused by that client', () => {
    const t = runRound({
      ids,
      config,
      seed: 13,
      toClient: (to, m: SecAggServerMessage, seen) => {
        if (to !== 'T' || m.type !== 'secagg/keys') return m;
        const own = seen.advertised.get('T')?.maskPublicKey as Uint8Array;
        return { ...m, keys: m.keys.map((k) => (k.clientId === 'C1' ? { ...k, maskPublicKey: own } : k)) };
      },
    });
    expect(t.clientErrors.get('T')?.code).toBe('SECAGG_BAD_KEY');
    expect(t.masked.has('T')).toBe(false);
  });
});
