import { describe, expect, it } from 'vitest';
import { type ErrorCode, FedlearnError } from '../errors.js';
import { createRng } from '../random.js';
import { decodeParams, encodeParams } from './codec.js';
import { flattenParams, type ModelParams, unflattenParams } from './tensors.js';

function randomParams(seed: number): ModelParams {
  const rng = createRng(seed);
  const shapes = [[3, 4], [4], [4, 2], [2]];
  return shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return { name: `layer_${i}/w`, shape, values: Float32Array.from({ length: size }, () => rng.normal()) };
  });
}

function expectCode(fn: () => unknown, code: ErrorCode): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FedlearnError);
    expect((error as FedlearnError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('params wire codec', () => {
  it('round-trips names, shapes and values exactly', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const params = randomParams(seed);
      const decoded = decodeParams(encodeParams(params), { expected: params });
      expect(decoded.map((t) => [t.name, t.shape])).toEqual(params.map((t) => [t.name, t.shape]));
      expect(flattenParams(decoded)).toEqual(flattenParams(params));
    }
  });

  it('round-trips an empty model and scalar tensors', () => {
    expect(decodeParams(encodeParams([]))).toEqual([]);
    const scalar = [{ name: 'bias', shape: [], values: Float32Array.of(2.5) }];
    expect(decodeParams(encodeParams(scalar))[0]!.values[0]).toBe(2.5);
  });

  it('refuses to encode NaN or Infinity', () => {
    const params = randomParams(1);
    params[2]!.values[3] = Number.NaN;
    expectCode(() => encodeParams(params), 'PARAMS_NOT_FINITE');
  });

  it('rejects NaN smuggled into a payload with a valid hash', () => {
    // Encode with a placeholder, then patch the value and recompute the hash as an attacker could.
    const params = [{ name: 'w', shape: [2], values: Float32Array.of(1, 2) }];
    const bytes = encodeParams(params);
    const payloadStart = bytes.length - 32 - 8;
    new DataView(bytes.buffer).setFloat32(payloadStart + 4, Number.POSITIVE_INFINITY, true);
    return import('@noble/hashes/sha2.js').then(({ sha256 }) => {
      bytes.set(sha256(bytes.subarray(0, bytes.length - 32)), bytes.length - 32);
      expectCode(() => decodeParams(bytes), 'PARAMS_NOT_FINITE');
    });
  });

  it('rejects every truncation, at every length', () => {
    const bytes = encodeParams(randomParams(3));
    for (let cut = 0; cut < bytes.length; cut++) {
      expectCode(() => decodeParams(bytes.subarray(0, cut)), 'PARAMS_TRUNCATED');
    }
  });

  it('rejects oversized payloads before parsing them', () => {
    const bytes = encodeParams(randomParams(4));
    expectCode(() => decodeParams(bytes, { maxBytes: bytes.length - 1 }), 'PARAMS_TOO_LARGE');
  });

  it('rejects every single flipped bit: header, names, shapes, values and hash', () => {
    const params = randomParams(5);
    const bytes = encodeParams(params);
    const valuesStart = bytes.length - 32 - flattenParams(params).length * 4;
    const codes = new Set<string>();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const corrupt = bytes.slice();
      corrupt[bit >> 3]! ^= 1 << (bit & 7);
      let error: unknown;
      try {
        decodeParams(corrupt, { expected: params });
      } catch (e) {
        error = e;
      }
      expect(error, `bit ${bit}`).toBeInstanceOf(FedlearnError);
      const { code } = error as FedlearnError;
      codes.add(code);
      // Past the header every flip is caught by the hash (or, in the hash, is the mismatch itself).
      if (bit >> 3 >= valuesStart) expect(code, `bit ${bit}`).toBe('PARAMS_HASH_MISMATCH');
    }
    // Flips in the header are caught by the check for what they hit, not only by the hash.
    expect([...codes].sort()).toEqual(
      expect.arrayContaining([
        'PARAMS_BAD_MAGIC',
        'PARAMS_HASH_MISMATCH',
        'PARAMS_UNSUPPORTED_DTYPE',
        'PARAMS_UNSUPPORTED_VERSION',
      ]),
    );
  });

  it('rejects garbage, wrong magic, version and dtype', () => {
    const rng = createRng(9);
    const garbage = Uint8Array.from({ length: 500 }, () => rng.int(256));
    expectCode(() => decodeParams(garbage), 'PARAMS_BAD_MAGIC');
    const bytes = encodeParams(randomParams(6));
    const wrongVersion = bytes.slice();
    wrongVersion[4] = 9;
    expectCode(() => decodeParams(wrongVersion), 'PARAMS_UNSUPPORTED_VERSION');
    const wrongDtype = bytes.slice();
    wrongDtype[6] = 7;
    expectCode(() => decodeParams(wrongDtype), 'PARAMS_UNSUPPORTED_DTYPE');
    expectCode(() => decodeParams('nope' as unknown as Uint8Array), 'MALFORMED_MESSAGE');
  });

  it('rejects shapes that do not match the model', () => {
    const params = randomParams(7);
    const other = randomParams(7);
    other[0] = { name: 'layer_0/w', shape: [4, 3], values: other[0]!.values };
    expectCode(() => decodeParams(encodeParams(other), { expected: params }), 'PARAMS_SHAPE_MISMATCH');
    expectCode(
      () => decodeParams(encodeParams(params.slice(1)), { expected: params }),
      'PARAMS_SHAPE_MISMATCH',
    );
  });

  it('rejects trailing bytes', () => {
    const bytes = encodeParams(randomParams(8));
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expectCode(() => decodeParams(longer), 'MALFORMED_MESSAGE');
  });
});

describe('flatten / unflatten', () => {
  it('are inverse in the model weight order', () => {
    const params = randomParams(11);
    const flat = flattenParams(params);
    expect(flat.length).toBe(12 + 4 + 8 + 2);
    const back = unflattenParams(flat, params);
    expect(back.map((t) => Array.from(t.values))).toEqual(params.map((t) => Array.from(t.values)));
  });

  it('rejects a vector of the wrong length', () => {
    const params = randomParams(12);
    expectCode(() => unflattenParams(new Float32Array(5), params), 'PARAMS_SHAPE_MISMATCH');
  });
});
