import { UpdateBuffer } from '../aggregate/index.js';
import { FedlearnError } from '../errors.js';
import { MetricMean } from './metric-mean.js';
import { SampledStrategy, type SamplingStrategyOptions } from './sampled-strategy.js';
import type { RoundAggregation } from './types.js';

/**
 * A strategy for untrusted clients that needs every update of a round (it cannot run under secure
 * aggregation): updates are copied into one `UpdateBuffer` as they arrive, and `finish` reduces
 * them. Following the papers, every update counts once, whatever its number of examples: a
 * Byzantine client could claim any weight.
 */
export abstract class RobustStrategy extends SampledStrategy {
  readonly requiresIndividualUpdates = true;
  /** Kept across rounds so its memory is reused. */
  private buffer: UpdateBuffer | undefined;

  /**
   * @param fewestUpdates the fewest updates the strategy can aggregate robustly (e.g. 2f + 3 for
   * Krum); `minFitClients` must be at least that, and a round with fewer fails.
   */
  constructor(
    options: SamplingStrategyOptions = {},
    private readonly fewestUpdates = 1,
  ) {
    super(options);
    if (this.minFitClients < fewestUpdates) {
      throw new FedlearnError(
        'INVALID_CONFIG',
        `this robust strategy needs at least ${fewestUpdates} updates per round: raise minFitClients to ${fewestUpdates}`,
        { details: { minFitClients: this.minFitClients, needed: fewestUpdates } },
      );
    }
  }

  /** The new global model from the round's n updates, rows [0, n) of `buffer`; `ids[i]` sent row i. */
  protected abstract reduce(buffer: UpdateBuffer, ids: readonly string[]): Float32Array;

  beginRound(_round: number, global: Float32Array): RoundAggregation {
    if (this.buffer?.length !== global.length)
      this.buffer = new UpdateBuffer(global.length, this.sampling.kernel);
    const buffer = this.buffer;
    buffer.reset();
    const ids: string[] = [];
    const metrics = new MetricMean();
    return {
      get count() {
        return ids.length;
      },
      add: (result) => {
        buffer.add(result.params);
        ids.push(result.clientId);
        metrics.add(result);
      },
      finish: () => {
        if (ids.length === 0) throw new FedlearnError('AGGREGATION_EMPTY', 'no update has been added yet');
        if (ids.length < this.fewestUpdates) {
          throw new FedlearnError(
            'QUORUM_NOT_REACHED',
            `${this.name} needs at least ${this.fewestUpdates} updates, the round has ${ids.length}`,
          );
        }
        return { params: this.reduce(buffer, ids), metrics: metrics.mean() };
      },
      dispose: () => buffer.reset(),
    };
  }
}
