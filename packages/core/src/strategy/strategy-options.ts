import { z } from 'zod';
import type { Strategy } from './types.js';

/** The sampling options every strategy accepts, with the job spec's defaults. */
export const samplingOptionsSchema = z.object({
  fractionFit: z.number().gt(0).max(1).default(1),
  fractionEvaluate: z.number().gt(0).max(1).default(1),
  minFitClients: z.number().int().min(1).max(1_000_000).default(2),
  minEvaluateClients: z.number().int().min(1).max(1_000_000).default(1),
  minAvailableClients: z.number().int().min(1).max(1_000_000).optional(),
});

export const SAMPLING_OPTION_NAMES: readonly string[] = Object.keys(samplingOptionsSchema.shape);

/** A finite number in a range, for a strategy's hyperparameters. */
export const hyperparameter = (min: number, max: number) => z.number().finite().min(min).max(max);

/**
 * One strategy in the registry: its name, a one-line summary, its options (a strict zod object
 * that extends `samplingOptionsSchema`, so unknown fields are refused) and how to build it.
 */
export interface StrategyDefinition {
  readonly name: string;
  readonly summary: string;
  readonly options: z.ZodType<Record<string, unknown>>;
  /** True when the strategy needs each client's update (it cannot run under secure aggregation). */
  readonly requiresIndividualUpdates?: boolean;
  create(options: never): Strategy;
}
