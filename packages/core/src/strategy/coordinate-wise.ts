import type { UpdateBuffer } from '../aggregate/index.js';
import { RobustStrategy } from './robust-strategy.js';
import type { SamplingStrategyOptions } from './sampled-strategy.js';
import { hyperparameter, type StrategyDefinition, samplingOptionsSchema } from './strategy-options.js';

/** The sorted ranks whose mean is the median of n values: the middle one, or the middle two. */
export function medianRanks(n: number): { lo: number; hi: number } {
  return { lo: Math.floor((n - 1) / 2), hi: Math.floor(n / 2) + 1 };
}

/**
 * Coordinate-wise median (Yin, Chen, Ramchandran and Bartlett, "Byzantine-Robust Distributed
 * Learning: Towards Optimal Statistical Rates", ICML 2018): each parameter of the new model is the
 * median of the clients' values for it (the mean of the middle two for an even count).
 */
export class CoordinateMedian extends RobustStrategy {
  readonly name = 'median';

  protected reduce(buffer: UpdateBuffer, ids: readonly string[]): Float32Array {
    return buffer.coordinateRankMean(0, ids.length, medianRanks(ids.length));
  }

  protected options(): Record<string, unknown> {
    return {};
  }
}

export interface TrimmedMeanOptions extends SamplingStrategyOptions {
  /** β: the fraction of values dropped at each end, per coordinate, in [0, 0.5). Default 0.1. */
  trimFraction?: number;
}

/**
 * Coordinate-wise trimmed mean (Yin et al., ICML 2018): per parameter, drop the ⌊β·n⌋ largest and
 * ⌊β·n⌋ smallest values and average the rest.
 */
export class TrimmedMean extends RobustStrategy {
  readonly name = 'trimmedmean';
  private readonly trimFraction: number;

  constructor(options: TrimmedMeanOptions = {}) {
    super(options);
    this.trimFraction = options.trimFraction ?? 0.1;
  }

  protected reduce(buffer: UpdateBuffer, ids: readonly string[]): Float32Array {
    const n = ids.length;
    const trimmed = Math.floor(this.trimFraction * n);
    return buffer.coordinateRankMean(0, n, { lo: trimmed, hi: n - trimmed });
  }

  protected options(): Record<string, unknown> {
    return { trimFraction: this.trimFraction };
  }
}

export const medianDefinition: StrategyDefinition = {
  name: 'median',
  summary: 'coordinate-wise median (Yin et al. 2018)',
  requiresIndividualUpdates: true,
  options: samplingOptionsSchema.extend({}).strict(),
  create: (o: SamplingStrategyOptions) => new CoordinateMedian(o),
};

export const trimmedMeanDefinition: StrategyDefinition = {
  name: 'trimmedmean',
  summary: 'coordinate-wise trimmed mean (Yin et al. 2018)',
  requiresIndividualUpdates: true,
  options: samplingOptionsSchema.extend({ trimFraction: hyperparameter(0, 0.4999).default(0.1) }).strict(),
  create: (o: TrimmedMeanOptions) => new TrimmedMean(o),
};
