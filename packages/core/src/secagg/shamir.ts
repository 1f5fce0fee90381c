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
  const t = xs.length;
  // Denominators ∏_{j≠i} (x_i − x_j), inverted together: one inversion for the whole basis
  // (prefix products, then back out each inverse).
  const dens = xs.map((xi, i) => {
    let den = 1n;
    for (let j = 0; j < t; j++) if (j !== i) den *= xi - (xs[j] as bigint);
    return mod(den);
  });
  const prefix = new Array<bigint>(t + 1);
  prefix[0] = 1n;
  for (let i = 0; i < t; i++) prefix[i + 1] = mod((prefix[i] as bigint) * (dens[i] as bigint));
  let inv = invert(prefix[t] as bigint);
  const weights = new Array<bigint>(t);
  for (let i = t - 1; i >= 0; i--) {
    weights[i] = mod((basis[i] as SharePoint).y * mod(inv * (prefix[i] as bigint)));
    inv = mod(inv * (dens[i] as bigint));
  }
  return (x) => {
    const bx = BigInt(x);
    // ∏_{j≠i} (x − x_j) as (product of the terms before i) · (product of those after i).
    const after = new Array<bigint>(t + 1);
    after[t] = 1n;
    for (let j = t - 1; j >= 0; j--) after[j] = mod((after[j + 1] as bigint) * (bx - (xs[j] as bigint)));
    let before = 1n;
    let sum = 0n;
    for (let i = 0; i < t; i++) {
      sum += (weights[i] as bigint) * mod(before * (after[i + 1] as bigint));
      before = mod(before * (bx - (xs[i] as bigint)));
    }
    return mod(sum);
  };
}

/**
 * Rebuilds the secret from the first `threshold` points after checking that every other point lies
 * on the same polynomial: 'disagree' if one does not, undefined if the value does not fit 32 bytes.
 * One interpolation serves both the check and the secret.
 */
export function rebuildChecked(
  points: readonly SharePoint[],
  threshold: number,
): Uint8Array | 'disagree' | undefined {
  const poly = interpolate(points.slice(0, threshold));
  for (let i = threshold; i < points.length; i++) {
    const p = points[i] as SharePoint;
    if (poly(p.x) !== p.y) return 'disagree';
  }
  const s = poly(0);
  return s >> 256n === 0n ? bigintToBytes(s, SECRET_BYTES) : undefined;
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
