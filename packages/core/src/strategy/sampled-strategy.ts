import type { WeightedSumKernel } from '../aggregate/index.js';
import { FedlearnError } from '../errors.js';
import type { Rng } from '../random.js';
import { sampleClients, validateSampling } from './sampling.js';
import type {
  AggregatedEvaluation,
  ClientInfo,
  EvaluateResult,
  RoundAggregation,
  Strategy,
  StrategyState,
} from './types.js';

/** Whom to train and evaluate each round: the options every strategy shares. */
export interface SamplingStrategyOptions {
  fractionFit?: number;
  fractionEvaluate?: number;
  minFitClients?: number;
  minEvaluateClients?: number;
  minAvailableClients?: number;
  /** Which kernel aggregates: `auto` picks wasm SIMD where the runtime has it. */
  kernel?: WeightedSumKernel;
}

/**
 * The part of a strategy that decides who takes part: uniform client sampling by fraction and
 * minimum, evaluation on clients that hold evaluation data, example-weighted evaluation metrics.
 * A strategy extends it and only says how a round's results become the next global model.
 */
export abstract class SampledStrategy implements Strategy {
  abstract readonly name: string;
  abstract readonly requiresIndividualUpdates: boolean;
  readonly minAvailableClients: number;
  readonly minFitClients: number;
  protected readonly sampling: Required<SamplingStrategyOptions>;

  constructor(options: SamplingStrategyOptions) {
    this.sampling = {
      fractionFit: options.fractionFit ?? 1,
      fractionEvaluate: options.fractionEvaluate ?? 1,
      minFitClients: options.minFitClients ?? 2,
      minEvaluateClients: options.minEvaluateClients ?? 1,
      minAvailableClients: options.minAvailableClients ?? options.minFitClients ?? 2,
      kernel: options.kernel ?? 'auto',
    };
    const s = this.sampling;
    validateSampling({ fraction: s.fractionFit, minClients: s.minFitClients }, 'fit');
    validateSampling({ fraction: s.fractionEvaluate, minClients: s.minEvaluateClients }, 'evaluate');
    if (s.minAvailableClients < s.minFitClients) {
      throw new FedlearnError('INVALID_CONFIG', 'minAvailableClients must be at least minFitClients');
    }
    this.minAvailableClients = s.minAvailableClients;
    this.minFitClients = s.minFitClients;
  }

  configureFit(_round: number, available: readonly ClientInfo[], rng: Rng): string[] {
    const s = this.sampling;
    return sampleClients(available, { fraction: s.fractionFit, minClients: s.minFitClients }, rng);
  }

  configureEvaluate(_round: number, available: readonly ClientInfo[], rng: Rng): string[] {
    const s = this.sampling;
    const withData = available.filter((c) => c.numEvalExamples > 0);
    return sampleClients(withData, { fraction: s.fractionEvaluate, minClients: s.minEvaluateClients }, rng);
  }

  abstract beginRound(round: number, global: Float32Array): RoundAggregation;

  aggregateEvaluate(_round: number, results: readonly EvaluateResult[]): AggregatedEvaluation | undefined {
    return weightedEvaluation(results);
  }

  /** The options this strategy was built with (sampling included); subclasses add their own. */
  protected abstract options(): Record<string, unknown>;

  state(): StrategyState {
    return { name: this.name, options: { ...this.sampling, ...this.options() }, tensors: {} };
  }

  /** Stateless strategies only check the state is theirs; stateful ones override it. */
  restore(state: StrategyState): void {
    checkStateName(state, this.name);
  }
}

/** Refuses to restore another strategy's state (a checkpoint of a job that ran something else). */
export function checkStateName(state: StrategyState, name: string): void {
  if (state?.name !== name) {
    throw new FedlearnError('INVALID_CONFIG', `cannot restore ${String(state?.name)} state into ${name}`, {
      details: { expected: name },
    });
  }
}

/** Example-weighted mean of loss and metrics; undefined when there are no results. */
export function weightedEvaluation(results: readonly EvaluateResult[]): AggregatedEvaluation | undefined {
  const numExamples = results.reduce((n, r) => n + r.numExamples, 0);
  if (numExamples === 0) return undefined;
  let loss = 0;
  const sums = new Map<string, number>();
  for (const r of results) {
    loss += r.loss * r.numExamples;
    for (const [key, value] of Object.entries(r.metrics))
      sums.set(key, (sums.get(key) ?? 0) + value * r.numExamples);
  }
  const metrics: Record<string, number> = {};
  for (const [key, value] of sums) metrics[key] = value / numExamples;
  return { loss: loss / numExamples, numExamples, metrics };
}
