import type { FitResult } from './types.js';

/** The example-weighted mean of the clients' training metrics, folded one result at a time. */
export class MetricMean {
  private readonly sums = new Map<string, number>();
  private examples = 0;

  add(result: FitResult): void {
    this.examples += result.numExamples;
    for (const [key, value] of Object.entries(result.metrics)) {
      this.sums.set(key, (this.sums.get(key) ?? 0) + value * result.numExamples);
    }
  }

  mean(): Record<string, number> {
    const metrics: Record<string, number> = {};
    for (const [key, value] of this.sums) metrics[key] = value / this.examples;
    return metrics;
  }
}
