import { FedlearnError } from '../errors.js';
import { checkStateName, SampledStrategy, type SamplingStrategyOptions } from './sampled-strategy.js';
import { StreamingAverage } from './streaming-average.js';
import type { RoundAggregation, StrategyState } from './types.js';

/**
 * A strategy that treats the clients' mean as a pseudo-gradient, Δ = mean − global, and steps
 * the global model with a server-side optimiser (Reddi et al., "Adaptive Federated Optimization",
 * ICLR 2021, Algorithm 2). It only needs the mean, so it runs under secure aggregation too.
 * Its moments are float64 vectors kept in the strategy and saved by `state()`.
 */
export abstract class ServerOptimizerStrategy extends SampledStrategy {
  readonly requiresIndividualUpdates = false;
  private readonly average: StreamingAverage;
  /** The optimiser's per-coordinate vectors by name, allocated on the first round. */
  protected moments: Record<string, Float64Array> = {};
  private rounds = 0;

  constructor(
    options: SamplingStrategyOptions,
    private readonly momentNames: readonly string[],
  ) {
    super(options);
    this.average = new StreamingAverage(this.sampling.kernel);
  }

  /** Fresh moments for a model of `length` parameters. */
  protected abstract initialMoments(length: number): Record<string, Float64Array>;

  /** Writes the next global model into `next`, updating the moments, from `global` and the mean. */
  protected abstract step(global: Float32Array, mean: Float32Array, next: Float32Array): void;

  beginRound(_round: number, global: Float32Array): RoundAggregation {
    const first = this.momentNames[0] as string;
    if (this.moments[first] === undefined) this.moments = this.initialMoments(global.length);
    if (this.moments[first]?.length !== global.length) {
      throw new FedlearnError(
        'PARAMS_SHAPE_MISMATCH',
        `${this.name} holds moments for ${this.moments[first]?.length} parameters, the model has ${global.length}`,
      );
    }
    const snapshot = global.slice();
    return this.average.begin(global.length, (mean) => {
      const next = new Float32Array(mean.length);
      this.step(snapshot, mean, next);
      this.rounds++;
      return next;
    });
  }

  override state(): StrategyState {
    const tensors: Record<string, Float64Array> = {};
    for (const [key, value] of Object.entries(this.moments)) tensors[key] = value.slice();
    return { ...super.state(), round: this.rounds, tensors };
  }

  override restore(state: StrategyState): void {
    checkStateName(state, this.name);
    const tensors = state.tensors ?? {};
    const present = this.momentNames.filter((name) => tensors[name] !== undefined);
    if (present.length === 0) {
      this.moments = {};
      this.rounds = 0;
      return;
    }
    const length = tensors[this.momentNames[0] as string]?.length;
    for (const name of this.momentNames) {
      const tensor = tensors[name];
      if (!(tensor instanceof Float64Array) || tensor.length !== length || !tensor.every(Number.isFinite)) {
        throw new FedlearnError(
          'INVALID_CONFIG',
          `${this.name} state: moment ${name} is missing or malformed`,
        );
      }
    }
    const rounds = state.round ?? 0;
    if (!Number.isSafeInteger(rounds) || rounds < 0) {
      throw new FedlearnError('INVALID_CONFIG', `${this.name} state: round must be a non-negative integer`);
    }
    this.moments = Object.fromEntries(
      this.momentNames.map((name) => [name, (tensors[name] as Float64Array).slice()]),
    );
    this.rounds = rounds;
  }
}
