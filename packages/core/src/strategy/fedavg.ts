import { createWeightedSum, type WeightedSum, type WeightedSumKernel } from '../aggregate/index.js';
import { FedlearnError } from '../errors.js';
import type { Rng } from '../random.js';
import { sampleClients, validateSampling } from './sampling.js';
import type {
  AggregatedEvaluation,
  ClientInfo,
  EvaluateResult,
  FitResult,
  RoundAggregation,
  Strategy,
} from './types.js';

export interface FedAvgOptions {
  fractionFit?: number;
  fractionEvaluate?: number;
  minFitClients?: number;
  minEvaluateClients?: number;
  minAvailableClients?: number;
  kernel?: WeightedSumKernel;
}

/**
 * Federated averaging (McMahan et al., AISTATS 2017): the new global model is the mean of the
 * clients' models weighted by their number of training examples. Updates are folded one at a
 * time into a float64 accumulator, so memory does not grow with the number of clients.
 */
export class FedAvg implements Strategy {
  readonly name = 'fedavg';
  readonly requiresIndividualUpdates = false;
  readonly minAvailableClients: number;
  readonly minFitClients: number;
  private readonly options: Required<FedAvgOptions>;
  /** Kept across rounds: fresh memory would pay its page faults during the next round's first update. */
  private sum: WeightedSum | undefined;

  constructor(options: FedAvgOptions = {}) {
    this.options = {
      fractionFit: options.fractionFit ?? 1,
      fractionEvaluate: options.fractionEvaluate ?? 1,
      minFitClients: options.minFitClients ?? 2,
      minEvaluateClients: options.minEvaluateClients ?? 1,
      minAvailableClients: options.minAvailableClients ?? options.minFitClients ?? 2,
      kernel: options.kernel ?? 'auto',
    };
    validateSampling({ fraction: this.options.fractionFit, minClients: this.options.minFitClients }, 'fit');
    validateSampling(
      { fraction: this.options.fractionEvaluate, minClients: this.options.minEvaluateClients },
      'evaluate',
    );
    if (this.options.minAvailableClients < this.options.minFitClients) {
      throw new FedlearnError('INVALID_CONFIG', 'minAvailableClients must be at least minFitClients');
    }
    this.minAvailableClients = this.options.minAvailableClients;
    this.minFitClients = this.options.minFitClients;
  }

  configureFit(_round: number, available: readonly ClientInfo[], rng: Rng): string[] {
    return sampleClients(
      available,
      { fraction: this.options.fractionFit, minClients: this.minFitClients },
      rng,
    );
  }

  configureEvaluate(_round: number, available: readonly ClientInfo[], rng: Rng): string[] {
    const withData = available.filter((c) => c.numEvalExamples > 0);
    return sampleClients(
      withData,
      { fraction: this.options.fractionEvaluate, minClients: this.options.minEvaluateClients },
      rng,
    );
  }

  beginRound(_round: number, global: Float32Array): RoundAggregation {
    if (this.sum?.length !== global.length) {
      this.sum?.dispose();
      this.sum = createWeightedSum(global.length, { kernel: this.options.kernel });
    }
    const sum = this.sum;
    sum.reset();
    const metricSums = new Map<string, number>();
    let examples = 0;
    return {
      get count() {
        return sum.count;
      },
      add(result: FitResult) {
        sum.add(result.params, result.numExamples);
        examples += result.numExamples;
        for (const [key, value] of Object.entries(result.metrics)) {
          metricSums.set(key, (metricSums.get(key) ?? 0) + value * result.numExamples);
        }
      },
      finish() {
        const params = sum.mean();
        const metrics: Record<string, number> = {};
        for (const [key, value] of metricSums) metrics[key] = value / examples;
        return { params, metrics };
      },
      dispose() {
        sum.reset();
      },
    };
  }

  aggregateEvaluate(_round: number, results: readonly EvaluateResult[]): AggregatedEvaluation | undefined {
    return weightedEvaluation(results);
  }

  state(): Record<string, unknown> {
    return { name: this.name, options: { ...this.options } };
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
