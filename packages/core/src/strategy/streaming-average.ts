import { createWeightedSum, type WeightedSum, type WeightedSumKernel } from '../aggregate/index.js';
import { MetricMean } from './metric-mean.js';
import type { RoundAggregation } from './types.js';

/**
 * The streaming example-weighted mean every sum-only strategy starts from (FedAvg, and the
 * server-side optimisers that step from it). It keeps one float64 accumulator across rounds:
 * fresh memory would pay its page faults during the next round's first update.
 */
export class StreamingAverage {
  private sum: WeightedSum | undefined;

  constructor(private readonly kernel: WeightedSumKernel) {}

  /**
   * A round that folds each update into the mean; `finish` hands the mean (float32) to `step`,
   * which returns the new global model (FedAvg returns the mean itself).
   */
  begin(length: number, step: (mean: Float32Array) => Float32Array): RoundAggregation {
    if (this.sum?.length !== length) {
      this.sum?.dispose();
      this.sum = createWeightedSum(length, { kernel: this.kernel });
    }
    const sum = this.sum;
    sum.reset();
    const metrics = new MetricMean();
    return {
      get count() {
        return sum.count;
      },
      add(result) {
        sum.add(result.params, result.numExamples);
        metrics.add(result);
      },
      finish() {
        return { params: step(sum.mean()), metrics: metrics.mean() };
      },
      dispose() {
        sum.reset();
      },
    };
  }
}
