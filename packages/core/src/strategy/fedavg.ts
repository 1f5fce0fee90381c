import { SampledStrategy, type SamplingStrategyOptions } from './sampled-strategy.js';
import { type StrategyDefinition, samplingOptionsSchema } from './strategy-options.js';
import { StreamingAverage } from './streaming-average.js';
import type { RoundAggregation } from './types.js';

export type FedAvgOptions = SamplingStrategyOptions;

/**
 * Federated averaging (McMahan et al., AISTATS 2017): the new global model is the mean of the
 * clients' models weighted by their number of training examples. Updates are folded one at a
 * time into a float64 accumulator, so memory does not grow with the number of clients.
 *
 * @example
 * const strategy = new FedAvg({ fractionFit: 0.5, minFitClients: 2 });
 */
export class FedAvg extends SampledStrategy {
  readonly name: string = 'fedavg';
  readonly requiresIndividualUpdates = false;
  private readonly average: StreamingAverage;

  constructor(options: FedAvgOptions = {}) {
    super(options);
    this.average = new StreamingAverage(this.sampling.kernel);
  }

  beginRound(_round: number, global: Float32Array): RoundAggregation {
    return this.average.begin(global.length, (mean) => mean);
  }

  protected options(): Record<string, unknown> {
    return {};
  }
}

export const fedAvgDefinition: StrategyDefinition = {
  name: 'fedavg',
  summary: 'example-weighted mean of the clients’ models (McMahan et al. 2017)',
  options: samplingOptionsSchema.extend({}).strict(),
  create: (options) => new FedAvg(options),
};
