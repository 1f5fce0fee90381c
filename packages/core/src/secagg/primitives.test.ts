import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { createRng, seededRandomBytes } from '../random.js';
import { recommendNeighbourhood, resolveSecAggParams, ringBitsFor } from './config.js';
import { neighbourGraph } from './graph.js';
import {
  agree,
  deriveKey,
  generateKeyPair,
  isValidPublicKey,
  open,
  portableX25519,
  publicKeyOf,
  seal,
} from './keys.js';
import { packedLength, packVector, unpackVector } from './packing.js';
import { quantizeWeighted } from './quantize.js';
import {
  interpolate,
  parseShare,
  rebuildChecked,
  reconstructSecret,
  SHAMIR_PRIME,
  splitSecret,
} from './shamir.js';

const base = { dimension: 10, clipRange: 1, quantizationBits: 8, maxWeight: 100 };

describe('config', () => {
  it('chooses b so that the sum over all n participants cannot overflow', () => {
    const p = resolveSecAggParams(base, 100);
    expect(p.ringBits).toBe(ringBitsFor(100, 100, 255));
    expect(100 * 100 * 255).toBeLessThan(2 ** p.ringBits);
    expect(100 * 100 * 255).toBeGreaterThanOrEqual(2 ** (p.ringBits - 1));
  });

  it('refuses a configuration that could overflow, before any round', () => {
    expect(() => resolveSecAggParams({ ...base, quantizationBits: 16, maxWeight: 70_000 }, 10)).toThrowError(
      expect.objectContaining({ code: 'SECAGG_CONFIG_OVERFLOW' }),
    );
    expect(() => resolveSecAggParams({ ...base, quantizationBits: 16, maxWeight: 2 ** 16 }, 1)).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('refuses bad neighbourhoods and unknown fields', () => {
    for (const bad of [
      { neighbours: 3 },
      { neighbours: 100 },
      { neighbours: 4, threshold: 5 },
      { threshold: 1 },
      { extra: 1 },
    ]) {
      expect(() => resolveSecAggParams({ ...base, ...bad }, 20)).toThrowError(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
  });

  it('recommends more neighbours for more dropouts', () => {
    const low = recommendNeighbourhood(1000, { dropoutRate: 0.1 });
    const high = recommendNeighbourhood(1000, { dropoutRate: 0.3 });
    expect(high.neighbours).toBeGreaterThan(low.neighbours);
    expect(high.threshold).toBe(Math.floor(high.neighbours / 2) + 1);
  });
});

describe('Shamir over the prime 2^256 + 297', () => {
  it('any t shares rebuild the secret; shares are field elements', () => {
    const random = seededRandomBytes(3);
    const rng = createRng(3);
    const secret = random(32);
    const xs = [1, 5, 9, 12, 40, 41, 77];
    const shares = splitSecret(secret, 4, xs, random);
    for (let trial = 0; trial < 10; trial++) {
      const picked = xs.map((x, i) => ({ x, y: parseShare(shares[i] as Uint8Array) as bigint }));
      for (let i = picked.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [picked[i], picked[j]] = [picked[j]!, picked[i]!];
      }
      expect(reconstructSecret(picked.slice(0, 4), 4)).toEqual(secret);
      expect(reconstructSecret(picked.slice(0, 3), 3)).not.toEqual(secret);
    }
    expect(parseShare(new Uint8Array(33).fill(0xff))).toBeUndefined();
    expect(parseShare(new Uint8Array(32))).toBeUndefined();
    expect(SHAMIR_PRIME > 2n ** 256n).toBe(true);
  });
});

describe('keys', () => {
  it('X25519 agreement is symmetric and small-order keys are refused', () => {
    const random = seededRandomBytes(4);
    const a = generateKeyPair(random);
    const b = generateKeyPair(random);
    expect(agree(a.secretKey, b.publicKey)).toEqual(agree(b.secretKey, a.publicKey));
    expect(isValidPublicKey(a.publicKey)).toBe(true);
    const small = [new Uint8Array(32), Uint8Array.from([1, ...new Uint8Array(31)])];
    for (const key of small) {
      expect(isValidPublicKey(key)).toBe(false);
      expect(agree(a.secretKey, key)).toBeUndefined();
    }
  });

  it('the portable X25519 (@noble/curves) gives the same keys and secrets as tweetnacl', () => {
    const randomBytes = seededRandomBytes(25519);
    for (let i = 0; i < 40; i++) {
      const a = randomBytes(32);
      const b = randomBytes(32);
      expect(publicKeyOf(a)).toEqual(nacl.scalarMult.base(a));
      expect(portableX25519(a, publicKeyOf(b))).toEqual(nacl.scalarMult(a, nacl.scalarMult.base(b)));
    }
  });

  it('every key on the small-order list really gives an all-zero secret', () => {
    const secret = seededRandomBytes(5)(32);
    const hex = [
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ];
    for (const h of hex) {
      const key = Uint8Array.from(h.match(/../g)!.map((b) => Number.parseInt(b, 16)));
      expect(isValidPublicKey(key)).toBe(false);
      expect(nacl.scalarMult(secret, key).every((b) => b === 0)).toBe(true);
    }
  });

  it('sealed bundles open only with the right key, pair and intact bytes', () => {
    const random = seededRandomBytes(6);
    const key = deriveKey(random(32), random(32), 'share-encryption');
    const context = random(32);
    const plain = random(66);
    const sealed = seal(key, plain, { context, from: 1, to: 2 }, random);
    expect(open(key, sealed, { context, from: 1, to: 2 })).toEqual(plain);
    expect(open(key, sealed, { context, from: 2, to: 1 })).toBeUndefined();
    expect(open(key, sealed.subarray(0, sealed.length - 1), { context, from: 1, to: 2 })).toBeUndefined();
    expect(open(random(32), sealed, { context, from: 1, to: 2 })).toBeUndefined();
  });
});

describe('packing', () => {
  it('round-trips every width from 1 to 32 bits and refuses padding or length errors', () => {
    const rng = createRng(7);
    for (let bits = 1; bits <= 32; bits++) {
      // An odd length leaves padding bits in the last word for every width below 32.
      const length = 1 + 2 * rng.int(100);
      const values = Uint32Array.from({ length }, () => Math.floor(rng.next() * 2 ** bits));
      const packed = packVector(values, bits);
      expect(packed.length).toBe(packedLength(length, bits));
      expect(unpackVector(packed, length, bits)).toEqual(values);
      expect(unpackVector(packed.subarray(4), length, bits)).toBeUndefined();
      if (bits === 32) continue;
      // The last word's top bit is padding: a packing with it set is not a packing of these values.
      const dirty = packed.slice();
      dirty[dirty.length - 1]! |= 0x80;
      expect(dirty[dirty.length - 1], `bits ${bits}`).not.toBe(packed[packed.length - 1]);
      expect(unpackVector(dirty, length, bits), `bits ${bits}`).toBeUndefined();
    }
  });
});

describe('neighbour graph', () => {
  it('is k-regular, symmetric, deterministic in its seed and different across seeds', () => {
    const seed = seededRandomBytes(8)(32);
    const g = neighbourGraph(50, 8, seed);
    g.forEach((ns, i) => {
      expect(ns).toHaveLength(8);
      expect(ns).not.toContain(i);
      for (const j of ns) expect(g[j]).toContain(i);
    });
    expect(neighbourGraph(50, 8, seed)).toEqual(g);
    expect(neighbourGraph(50, 8, seededRandomBytes(9)(32))).not.toEqual(g);
    expect(neighbourGraph(5, 4, seed)[0]).toEqual([1, 2, 3, 4]);
  });
});

describe('quantization', () => {
  const params = resolveSecAggParams(
    { dimension: 4000, clipRange: 2, quantizationBits: 4, maxWeight: 10 },
    5,
  );

  it('clips, and rounds stochastically without bias', () => {
    const update = new Float32Array(4000).fill(0.3);
    update[0] = 100;
    update[1] = -100;
    const q = quantizeWeighted(params, update, 1, seededRandomBytes(10)(32));
    expect(q[1]).toBe(15);
    expect(q[2]).toBe(0);
    const step = 4 / 15;
    let mean = 0;
    for (let i = 3; i < q.length; i++) mean += -2 + (q[i] as number) * step;
    mean /= q.length - 3;
    expect(Math.abs(mean - 0.3)).toBeLessThan(0.01);
  });

  it('prepends the weight and multiplies by it; refuses bad weights and non-finite values', () => {
    const update = new Float32Array(4000).fill(2);
    const q = quantizeWeighted(params, update, 7, seededRandomBytes(11)(32));
    expect(q[0]).toBe(7);
    expect(q[1]).toBe(7 * 15);
    const noise = seededRandomBytes(12)(32);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'none';
    };
    expect(code(() => quantizeWeighted(params, update, 11, noise))).toBe('SECAGG_WEIGHT_TOO_LARGE');
    expect(code(() => quantizeWeighted(params, update, 1.5, noise))).toBe('INVALID_ARGUMENT');
    expect(code(() => quantizeWeighted(params, new Float32Array(3), 1, noise))).toBe('INVALID_ARGUMENT');
    update[5] = Number.NaN;
    expect(code(() => quantizeWeighted(params, update, 1, noise))).toBe('PARAMS_NOT_FINITE');
  });
});

describe('Shamir interpolation (batched inversion, prefix products)', () => {
  const P = SHAMIR_PRIME;
  const m = (a: bigint) => ((a % P) + P) % P;
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n;
    let x = m(b);
    for (let k = e; k > 0n; k >>= 1n) {
      if (k & 1n) r = m(r * x);
      x = m(x * x);
    }
    return r;
  };
  /** Textbook Lagrange with one Fermat inversion per term. */
  const naive = (pts: { x: number; y: bigint }[], x: number) => {
    let sum = 0n;
    for (let i = 0; i < pts.length; i++) {
      let num = 1n;
      let den = 1n;
      for (let j = 0; j < pts.length; j++) {
        if (j === i) continue;
        num = m(num * BigInt(x - pts[j]!.x));
        den = m(den * BigInt(pts[i]!.x - pts[j]!.x));
      }
      sum = m(sum + pts[i]!.y * num * pow(den, P - 2n));
    }
    return sum;
  };

  it('evaluates to the textbook Lagrange value at 0, at the basis and elsewhere (random points)', () => {
    const rng = createRng(91);
    const random = seededRandomBytes(91);
    for (let trial = 0; trial < 12; trial++) {
      const t = 1 + rng.int(20);
      const xs = new Set<number>();
      while (xs.size < t) xs.add(1 + rng.int(2000));
      const pts = [...xs].map((x) => ({ x, y: m(BigInt(`0x${Buffer.from(random(40)).toString('hex')}`)) }));
      const poly = interpolate(pts);
      for (const x of [0, pts[0]!.x, 1 + rng.int(3000)]) expect(poly(x)).toBe(naive(pts, x));
    }
  });

  it('rebuildChecked returns the secret from consistent shares and refuses a tampered one', () => {
    const secret = seededRandomBytes(92)(32);
    const xs = [3, 7, 8, 12, 20, 21];
    const shares = splitSecret(secret, 4, xs, seededRandomBytes(93)).map((b, i) => ({
      x: xs[i]!,
      y: parseShare(b)!,
    }));
    expect(rebuildChecked(shares, 4)).toEqual(secret);
    const tampered = shares.map((s, i) => (i === 5 ? { ...s, y: m(s.y + 1n) } : s));
    expect(rebuildChecked(tampered, 4)).toBe('disagree');
  });
});
