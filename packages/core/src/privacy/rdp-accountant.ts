import { FedlearnError } from '../errors.js';
import { logAdd, logErfc, logSub } from './log-math.js';

/**
 * The Rényi orders ε is minimised over: 1.1 … 10.9 in steps of 0.1, then 12 … 63, the grid the
 * TensorFlow Privacy tutorials report their ε with.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
];

/** T steps of the sampled Gaussian mechanism: each record (client) in with probability q, noise σ·C. */
export interface SampledGaussian {
  /** q: each client takes part in a round independently with this probability (Poisson sampling). */
  samplingRate: number;
  /** σ: the noise standard deviation divided by the clipping norm. */
  noiseMultiplier: number;
  /** T: rounds (steps) so far. */
  steps: number;
}

/**
 * Rényi DP of order α of one step of the sampled Gaussian mechanism (Mironov, Talwar and Zhang,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019): ε(α) = log(A_α)/(α − 1),
 * A_α = E_{z∼μ0}[(μ(z)/μ0(z))^α] for μ = (1 − q)·μ0 + q·μ1, μ0 = N(0, σ²), μ1 = N(1, σ²).
 * Integer α sums the binomial expansion (their §3.2); fractional α sums their two-sided series
 * (§3.3), with the split point z0 = σ²·log(1/q − 1) + 1/2. Sums are kept in log space.
 */
export function sampledGaussianRdp(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (!Number.isFinite(sigma) || sigma <= 0) return Number.POSITIVE_INFINITY;
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  return logA / (alpha - 1);
}

function logAInteger(q: number, sigma: number, alpha: number): number {
  let logA = Number.NEGATIVE_INFINITY;
  let logBinomial = 0;
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logBinomial += Math.log(alpha - k + 1) - Math.log(k);
    const term =
      logBinomial + k * Math.log(q) + (alpha - k) * Math.log1p(-q) + (k * k - k) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

function logAFractional(q: number, sigma: number, alpha: number): number {
  // Positive and negative parts apart: the generalised binomial C(α, i) alternates in sign past α.
  let positive = Number.NEGATIVE_INFINITY;
  let negative = Number.NEGATIVE_INFINITY;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const s2 = 2 * sigma * sigma;
  let logBinomial = 0;
  let sign = 1;
  for (let i = 0; i < 100_000; i++) {
    if (i > 0) {
      const factor = alpha - i + 1;
      logBinomial += Math.log(Math.abs(factor)) - Math.log(i);
      if (factor < 0) sign = -sign;
    }
    const j = alpha - i;
    // log of C(α,i)·q^k·(1−q)^(α−k)·e^((k²−k)/2σ²)·½erfc(x), for the two halves of the series.
    const half = (k: number, x: number) =>
      logBinomial +
      k * Math.log(q) +
      (alpha - k) * Math.log1p(-q) +
      (k * k - k) / s2 +
      Math.log(0.5) +
      logErfc(x);
    const below = half(i, (i - z0) / Math.sqrt(s2));
    const above = half(j, (z0 - j) / Math.sqrt(s2));
    const term = logAdd(below, above);
    if (sign > 0) positive = logAdd(positive, term);
    else negative = logAdd(negative, term);
    if (i > alpha && Math.max(below, above) < -30) break;
  }
  return logSub(positive, negative);
}

/**
 * (ε, δ) from RDP ε(α) over orders: ε = min_α ε(α) + log(1/δ)/(α − 1) (Mironov, "Rényi
 * Differential Privacy", CSF 2017, Proposition 3), with the order that attains it.
 */
export function epsilonFromRdp(
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
): { epsilon: number; order: number } {
  let best = { epsilon: Number.POSITIVE_INFINITY, order: Number.NaN };
  orders.forEach((alpha, i) => {
    const epsilon = (rdp[i] as number) - Math.log(delta) / (alpha - 1);
    if (epsilon < best.epsilon) best = { epsilon, order: alpha };
  });
  return best;
}

/**
 * The ε spent after `steps` rounds of the sampled Gaussian mechanism, at δ. RDP composes by
 * addition, so T rounds cost T·ε(α) at every order.
 *
 * @throws FedlearnError `INVALID_ARGUMENT` for q outside [0, 1], σ ≤ 0, a negative or fractional
 * step count, δ outside (0, 1), or an order ≤ 1.
 * @example
 * computeEpsilon({ samplingRate: 256 / 60000, noiseMultiplier: 1.12, steps: 14062 }, 1e-5); // ≈ 2.92
 */
export function computeEpsilon(
  mechanism: SampledGaussian,
  delta: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): { epsilon: number; order: number } {
  const { samplingRate: q, noiseMultiplier: sigma, steps } = mechanism;
  const bad = (what: string) => new FedlearnError('INVALID_ARGUMENT', `privacy accountant: ${what}`);
  if (!(q >= 0 && q <= 1)) throw bad('samplingRate must be in [0, 1]');
  if (!(sigma > 0 && Number.isFinite(sigma))) throw bad('noiseMultiplier must be a positive number');
  if (!Number.isSafeInteger(steps) || steps < 0) throw bad('steps must be a non-negative integer');
  if (!(delta > 0 && delta < 1)) throw bad('delta must be in (0, 1)');
  if (orders.length === 0 || orders.some((a) => !(a > 1 && Number.isFinite(a))))
    throw bad('orders must be > 1');
  const rdp = orders.map((alpha) => steps * sampledGaussianRdp(q, sigma, alpha));
  return epsilonFromRdp(orders, rdp, delta);
}
