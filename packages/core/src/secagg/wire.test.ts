import { describe, expect, it } from 'vitest';
import { isFedlearnError } from '../errors.js';
import { seededRandomBytes } from '../random.js';
import { liveRound } from './harness.js';
import { parseSecAggMessage, SecAggClientMessageSchema } from './messages.js';
import { decodeSecAggMessage, encodeSecAggMessage } from './wire.js';

const reasonOf = (bytes: Uint8Array) => {
  try {
    decodeSecAggMessage(bytes);
  } catch (error) {
    if (isFedlearnError(error, 'MALFORMED_MESSAGE')) return error.details.reason;
    throw error;
  }
  return 'accepted';
};

describe('secagg wire codec', () => {
  it('round-trips every message of a real round, binary fields included', () => {
    const round = liveRound(4, 2);
    const setup = round.server.setup;
    expect(decodeSecAggMessage(encodeSecAggMessage(setup))).toEqual(setup);
    const keys = round.clients.get('client-0')!.advertiseKeys();
    const decoded = parseSecAggMessage(
      SecAggClientMessageSchema,
      decodeSecAggMessage(encodeSecAggMessage(keys)),
    );
    expect(decoded).toEqual(keys);
    expect(decoded.type === 'secagg/advertise-keys' && decoded.encPublicKey).toBeInstanceOf(Uint8Array);
  });

  it('refuses malformed bytes with typed errors saying why', () => {
    const good = encodeSecAggMessage({
      type: 'secagg/unmask',
      round: 1,
      seedShares: [{ owner: 'a', share: seededRandomBytes(1)(33) }],
      keyShares: [],
    });
    expect(reasonOf(good.subarray(0, 5))).toBe('shorter than its prefix');
    expect(reasonOf(Uint8Array.from([0, ...good.subarray(1)]))).toBe('bad magic');
    const version = good.slice();
    version[4] = 9;
    expect(reasonOf(version)).toBe('unsupported version 9');
    expect(reasonOf(good.subarray(0, good.length - 1))).toBe('section runs past the end');
    expect(reasonOf(Uint8Array.from([...good, 0, 0]))).toBe('truncated section length');
    expect(reasonOf(Uint8Array.from([...good, 0, 0, 0, 0]))).toBe('unreferenced binary section');
    const header = (json: string, sections: Uint8Array[] = []) => {
      const h = new TextEncoder().encode(json);
      const out = [0x46, 0x4c, 0x53, 0x41, 1, h.length & 255, h.length >> 8, 0, 0, ...h];
      for (const s of sections) out.push(s.length, 0, 0, 0, ...s);
      return Uint8Array.from(out);
    };
    expect(reasonOf(header('{"a":'))).toBe('header is not UTF-8 JSON');
    expect(reasonOf(header('{"a":{"$b":0}}'))).toBe('binary placeholder out of range');
    expect(reasonOf(header('{"a":{"$b":0},"b":{"$b":0}}', [Uint8Array.of(1)]))).toBe(
      'binary section referenced twice',
    );
    expect(reasonOf(header('{"__proto__":{"x":1}}'))).toBe('forbidden key __proto__');
    expect(reasonOf(header(`${'['.repeat(20)}${']'.repeat(20)}`))).toBe('nested too deeply');
    const long = good.slice();
    new DataView(long.buffer).setUint32(5, 1e9, true);
    expect(reasonOf(long)).toBe('header runs past the end');
  });
});
