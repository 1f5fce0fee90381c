import { z } from 'zod';
import { FedlearnError } from '../errors.js';

/**
 * What a client needs to add its share of the distributed noise: σ, the fewest clients whose
 * shares make up the sum, and the secure-aggregation ring's quantisation grid.
 */
export const distributedNoiseSchema = z
  .object({
    noiseMultiplier: z.number().positive().finite().max(1e6),
    /** The fewest clients whose noise can be in a round's sum (its quorum): each adds 1/clients of it. */
    clients: z.number().int().min(1).max(1_000_000),
    /** The ring's per-coordinate range [−clipRange, clipRange] and bits: its grid step is 2·clipRange/(2^bits − 1). */
    clipRange: z.number().positive().finite(),
    bits: z.number().int().min(1).max(24),
  })
  .strict();
export type DistributedNoise = z.infer<typeof distributedNoiseSchema>;

/** How many standard deviations of one client's noise the ring's range must hold beyond C. */
export const NOISE_HEADROOM_SIGMAS = 8;

/** One client's share of the noise, in grid steps. */
export interface NoiseShare {
  /** The grid step of the ring: one unit of integer noise, in update units. */
  quantum: number;
  /** μ of this client's Skellam(μ) noise (variance 2μ steps²). */
  mu: number;
  /** The L2 sensitivity in grid steps that σ multiplies: C/quantum + √d (stochastic rounding moves each coordinate by < 1 step). */
  sensitivitySteps: number;
  /** Standard deviation of this client's noise per coordinate, in update units. */
  stddev: number;
}

/**
 * Splits Skellam noise of standard deviation σ·Δ₂ (in grid steps) over `clients` clients: each adds
 * Skellam(μ) with 2μ·clients = (σ·Δ₂)², so any `clients` of them sum to exactly that (Agarwal et
 * al., NeurIPS 2021, §3). Δ₂ = C/quantum + √d bounds the norm of a clipped update after the ring's
 * stochastic rounding, so σ is the noise multiplier the accountant uses.
 *
 * @throws FedlearnError `INVALID_CONFIG` when the ring's range cannot hold C plus
 * {@link NOISE_HEADROOM_SIGMAS} standard deviations of one client's noise (the quantiser would clip it).
 */
export function noiseShare(noise: DistributedNoise, clipNorm: number, dimension: number): NoiseShare {
  const quantum = (2 * noise.clipRange) / (2 ** noise.bits - 1);
  const sensitivitySteps = clipNorm / quantum + Math.sqrt(dimension);
  const totalSteps = noise.noiseMultiplier * sensitivitySteps;
  const mu = (totalSteps * totalSteps) / (2 * noise.clients);
  const stddev = Math.sqrt(2 * mu) * quantum;
  if (noise.clipRange < clipNorm + NOISE_HEADROOM_SIGMAS * stddev) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `secagg.clip ${noise.clipRange} cannot hold updates of norm ${clipNorm} plus ${NOISE_HEADROOM_SIGMAS} standard deviations of one client's noise (${stddev.toPrecision(3)}): raise secagg.clip to at least ${(clipNorm + NOISE_HEADROOM_SIGMAS * stddev).toPrecision(3)} (and secagg.bits with it)`,
      { details: { clipRange: noise.clipRange, clipNorm, stddev } },
    );
  }
  return { quantum, mu, sensitivitySteps, stddev };
}

/**
 * The smallest `secagg.clip` that holds a clipped update and its noise share, for a model of
 * `dimension` parameters: the fixed point of c = C + k·σ·(C + √d·2c/L)/√n, solved in closed form.
 */
export function ringClipFor(
  noise: Omit<DistributedNoise, 'clipRange'>,
  clipNorm: number,
  dimension: number,
): number {
  const levels = 2 ** noise.bits - 1;
  const k = (NOISE_HEADROOM_SIGMAS * noise.noiseMultiplier) / Math.sqrt(noise.clients);
  const slope = (k * Math.sqrt(dimension) * 2) / levels;
  if (slope >= 1) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `${noise.bits} quantisation bits are too few for ${dimension} parameters at this noise: raise secagg.bits`,
    );
  }
  // A hair above the fixed point, so that float rounding cannot fail noiseShare's check.
  return ((clipNorm * (1 + k)) / (1 - slope)) * (1 + 1e-9);
}

/** The `privacy` part of a client's fit instructions: clip to `clipNorm`; under distributed DP, add a noise share. */
export const fitPrivacySchema = z
  .object({
    clipNorm: z.number().positive().finite().max(1e6),
    noise: distributedNoiseSchema.optional(),
  })
  .strict();
export type FitPrivacy = z.infer<typeof fitPrivacySchema>;
