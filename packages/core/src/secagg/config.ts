import { z } from 'zod';
import { secaggError } from './errors.js';

/** Largest ring Z_(2^b) we use: sums stay in Uint32 arithmetic. */
export const MAX_RING_BITS = 32;

/**
 * What the coordinator chooses for a secure-aggregation round. `neighbours` (k) and `threshold` (t)
 * default from the number of participants; see {@link recommendNeighbourhood} for dropout-aware values.
 */
export const SecAggConfigSchema = z
  .object({
    /** Length d of the update vector (without the weight). */
    dimension: z
      .number()
      .int()
      .positive()
      .max(2 ** 28),
    /** Every coordinate is clipped to [-clipRange, clipRange] before quantization. */
    clipRange: z.number().positive().finite(),
    /** Quantization levels are 0..2^quantizationBits - 1 over the clipping range. */
    quantizationBits: z.number().int().min(1).max(24),
    /** Largest integer weight a client may send (e.g. a cap on its number of examples). */
    maxWeight: z
      .number()
      .int()
      .positive()
      .max(2 ** 31),
    /** k, the degree of the neighbour graph; each client shares its secrets with its k neighbours. */
    neighbours: z.number().int().positive().optional(),
    /** t, how many of a client's neighbours are needed to rebuild its secrets. */
    threshold: z.number().int().min(2).optional(),
  })
  .strict();

export type SecAggConfig = z.infer<typeof SecAggConfigSchema>;

/** The configuration resolved for n participants: every value fixed, overflow ruled out. */
export interface SecAggParams {
  readonly participants: number;
  readonly dimension: number;
  /** d + 1: the weight followed by the weighted update. */
  readonly vectorLength: number;
  readonly clipRange: number;
  readonly quantizationBits: number;
  /** 2^quantizationBits - 1. */
  readonly levels: number;
  readonly maxWeight: number;
  readonly neighbours: number;
  readonly threshold: number;
  /** b: masked vectors live in Z_(2^b). */
  readonly ringBits: number;
}

/** k = 2·⌈log2 n⌉ (even, so the ring graph is regular), or everyone when n is small. */
export function defaultNeighbours(n: number): number {
  const k = 2 * Math.ceil(Math.log2(Math.max(2, n)));
  return Math.min(n - 1, k);
}

/** t = ⌊k/2⌋ + 1: fewer than half of a client's neighbours cannot rebuild its secrets. */
export function defaultThreshold(k: number): number {
  return Math.max(2, Math.floor(k / 2) + 1);
}

/** Bits needed so that n·maxWeight·levels, the largest possible sum, fits in Z_(2^b). */
export function ringBitsFor(n: number, maxWeight: number, levels: number): number {
  const largest = BigInt(n) * BigInt(maxWeight) * BigInt(levels);
  return Math.max(1, largest.toString(2).length);
}

/**
 * The default `maxWeight` for n clients: the largest weight they announced, capped so the ring
 * still fits in {@link MAX_RING_BITS} bits. One inflated announcement then cannot make every round
 * overflow; clients with more examples send the cap as their weight.
 */
export function cappedMaxWeight(announced: readonly number[], n: number, quantizationBits: number): number {
  const largest = Math.max(1, ...announced.filter((w) => Number.isInteger(w) && w > 0));
  const cap = Math.floor((2 ** MAX_RING_BITS - 1) / (Math.max(3, n) * (2 ** quantizationBits - 1)));
  return Math.max(1, Math.min(largest, cap, 2 ** 31));
}

/**
 * Validates `config` for `n` participants and fixes k, t and b. Refuses, before any round starts,
 * a configuration whose sum could overflow the ring.
 *
 * @example
 * const params = resolveSecAggParams({ dimension: 1000, clipRange: 1, quantizationBits: 12, maxWeight: 100 }, 50);
 */
export function resolveSecAggParams(config: unknown, n: number): SecAggParams {
  const parsed = SecAggConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw secaggError('INVALID_CONFIG', `invalid secure aggregation config: ${parsed.error.message}`);
  }
  const c = parsed.data;
  if (!Number.isInteger(n) || n < 3) {
    throw secaggError('INVALID_CONFIG', `secure aggregation needs at least 3 participants, got ${n}`);
  }
  const k = c.neighbours ?? defaultNeighbours(n);
  if (k > n - 1 || k < 2) {
    throw secaggError(
      'INVALID_CONFIG',
      `neighbours must be in [2, ${n - 1}] for ${n} participants, got ${k}`,
    );
  }
  if (k !== n - 1 && k % 2 !== 0) {
    throw secaggError('INVALID_CONFIG', `neighbours must be even (or n - 1 = ${n - 1}), got ${k}`);
  }
  const t = c.threshold ?? defaultThreshold(k);
  if (t > k) throw secaggError('INVALID_CONFIG', `threshold ${t} exceeds neighbours ${k}`);
  // With t ≤ k/2, dropouts can cut the ring graph into groups the server unmasks one by one.
  if (k < n - 1 && 2 * t <= k) {
    throw secaggError(
      'INVALID_CONFIG',
      `threshold ${t} must exceed half the neighbours (${k}) when the graph is not complete: 2t > k`,
      undefined,
      { neighbours: k, threshold: t },
    );
  }
  const levels = 2 ** c.quantizationBits - 1;
  const ringBits = ringBitsFor(n, c.maxWeight, levels);
  if (ringBits > MAX_RING_BITS) {
    throw secaggError(
      'SECAGG_CONFIG_OVERFLOW',
      `the sum of ${n} clients with weight up to ${c.maxWeight} and ${c.quantizationBits}-bit quantization ` +
        `needs ${ringBits} bits, more than ${MAX_RING_BITS}: lower maxWeight or quantizationBits`,
      undefined,
      { ringBits, participants: n, maxWeight: c.maxWeight, quantizationBits: c.quantizationBits },
    );
  }
  return {
    participants: n,
    dimension: c.dimension,
    vectorLength: c.dimension + 1,
    clipRange: c.clipRange,
    quantizationBits: c.quantizationBits,
    levels,
    maxWeight: c.maxWeight,
    neighbours: k,
    threshold: t,
    ringBits,
  };
}

/** The config with k and t written out, as sent to clients in the setup message. */
export function explicitConfig(p: SecAggParams): Required<SecAggConfig> {
  return {
    dimension: p.dimension,
    clipRange: p.clipRange,
    quantizationBits: p.quantizationBits,
    maxWeight: p.maxWeight,
    neighbours: p.neighbours,
    threshold: p.threshold,
  };
}

function binomialCdfBelow(k: number, p: number, t: number): number {
  // P[Binomial(k, p) < t], summed in log space to stay finite for large k.
  let total = 0;
  for (let i = 0; i < t; i++) {
    let logC = 0;
    for (let j = 1; j <= i; j++) logC += Math.log((k - i + j) / j);
    total += Math.exp(logC + i * Math.log(p) + (k - i) * Math.log1p(-p));
  }
  return total;
}

/**
 * Smallest even k (with t = ⌊k/2⌋ + 1) such that, when each client drops independently with
 * probability `dropoutRate`, the chance that some client keeps fewer than t live neighbours is at
 * most `failureProbability` (union bound over n clients).
 */
export function recommendNeighbourhood(
  n: number,
  options: { dropoutRate: number; failureProbability?: number },
): { neighbours: number; threshold: number } {
  const eps = options.failureProbability ?? 1e-3;
  const survive = 1 - options.dropoutRate;
  for (let k = defaultNeighbours(n); k <= n - 1; k += k === n - 2 ? 1 : 2) {
    const t = defaultThreshold(k);
    if (t <= k && n * binomialCdfBelow(k, survive, t) <= eps) return { neighbours: k, threshold: t };
    if (k === n - 1) break;
  }
  const k = n - 1;
  return { neighbours: k, threshold: defaultThreshold(k) };
}
