import type { RandomBytes } from '../random.js';
import { secaggError } from './errors.js';

/** The smallest prime above 2^256, so any 32-byte secret is one field element. */
export const SHAMIR_PRIME = (1n << 256n) + 297n;
/** A share's y coordinate, big-endian: 257 bits fit in 33 bytes. */
export const SHARE_BYTES = 33;
export const SECRET_BYTES = 32;

/** A point on the sharing polynomial: `x` is the holder's participant index + 1. */
export interface SharePoint {
  readonly x: number;
  readonly y: bigint;
}

const mod = (a: bigint): bigint => {
  const r = a % SHAMIR_PRIME;
  return r < 0n ? r + SHAMIR_PRIME : r;
};

function invert(a: bigint): bigint {
  let [oldR, r] = [mod(a), SHAMIR_PRIME];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS);
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function bigintToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Splits a 32-byte secret into one share per x in `xs`; any `threshold` of them rebuild it. */
export function splitSecret(
  secret: Uint8Array,
  threshold: number,
  xs: readonly number[],
  randomBytes: RandomBytes,
): Uint8Array[] {
  // 40 random bytes reduced mod p: bias below 2^-60.
  const coefficients = [bytesToBigint(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(mod(bytesToBigint(randomBytes(40))));
  return xs.map((x) => {
    const bx = BigInt(x);
    let y = 0n;
    for (let i = coefficients.length - 1; i >= 0; i--) y = mod(y * bx + (coefficients[i] as bigint));
    return bigintToBytes(y, SHARE_BYTES);
  });
}

/** Parses a share; undefined when it is not a field element of the right length. */
export function parseShare(bytes: Uint8Array): bigint | undefined {
  if (bytes.length !== SHARE_BYTES) return undefined;
  const y = bytesToBigint(bytes);
  return y < SHAMIR_PRIME ? y : undefined;
}

/**
 * The polynomial through `basis` (distinct x), ready to evaluate anywhere. The Lagrange denominators
 * depend only on the basis, so they are inverted once.
 */
export function interpolate(basis: readonly SharePoint[]): (x: number) => bigint {
  const xs = basis.map((p) => BigInt(p.x));
  if (new Set(basis.map((p) => p.x)).size !== basis.length) {
    // A repeated x makes a Lagrange denominator 0, which has no inverse: refuse, never guess.
    throw secaggError('SECAGG_INCONSISTENT_SHARES', 'two shares have the same x-coordinate', undefined, {
      xs: basis.map((p) => p.x),
    });
  }
  const weights = basis.map((p, i) => {
    let den = 1n;
    for (let j = 0; j < xs.length; j++) if (j !== i) den *= (xs[i] as bigint) - (xs[j] as bigint);
    return mod(p.y * invert(mod(den)));
  });
  return (x) => {
    const bx = BigInt(x);
    let sum = 0n;
    for (let i = 0; i < xs.length; i++) {
      let num = 1n;
      for (let j = 0; j < xs.length; j++) if (j !== i) num *= bx - (xs[j] as bigint);
      sum += (weights[i] as bigint) * mod(num);
    }
    return mod(sum);
  };
}

/** Whether every point lies on the polynomial through the first `threshold` points. */
export function sharesAgree(points: readonly SharePoint[], threshold: number): boolean {
  const poly = interpolate(points.slice(0, threshold));
  for (let i = threshold; i < points.length; i++) {
    const p = points[i] as SharePoint;
    if (poly(p.x) !== p.y) return false;
  }
  return true;
}

/** The secret at x = 0 of the polynomial through the first `threshold` points, as 32 bytes (or undefined if it does not fit). */
export function reconstructSecret(points: readonly SharePoint[], threshold: number): Uint8Array | undefined {
  const s = interpolate(points.slice(0, threshold))(0);
  return s >> 256n === 0n ? bigintToBytes(s, SECRET_BYTES) : undefined;
}
