import { FedlearnError } from '../errors.js';
import type { Rng } from '../random.js';
import { MetricMean } from '../strategy/metric-mean.js';
import type {
  AggregatedEvaluation,
  ClientInfo,
  EvaluateResult,
  FitResult,
  RoundAggregation,
  Strategy,
  StrategyFitConfig,
  StrategyState,
} from '../strategy/types.js';
import { clipToNorm } from './clip.js';
import type { DistributedNoise } from './distributed-noise.js';
import { addGaussianNoise, cryptoRng } from './noise.js';
import type { PrivacySpec } from './privacy-spec.js';

/** Where the private strategy's noise comes from, and (distributed DP) the ring the clients noise in. */
export interface PrivateStrategyOptions {
  /** Central DP's noise source: a CSPRNG by default; tests inject a seeded `createRng`. */
  rng?: Rng;
  /** Distributed DP: the secure-aggregation ring the clients add their noise in. */
  ring?: { clipRange: number; bits: number };
}

/**
 * Wraps a sum-only strategy with DP-FedAvg (McMahan et al., "Learning Differentially Private
 * Recurrent Language Models", ICLR 2018). Every update counts once (uniform weights, so one client
 * moves the sum by at most C), clipped to L2 norm C; the inner strategy then steps from
 * global + (Σ clipped Δ + noise)/n, where n is the number of updates in the round.
 *
 * - `central`: the coordinator sees each update, clips it and adds N(0, (σC)²) to the sum.
 * - `distributed`: the clients clip and noise their own updates before masking (the client
 *   middleware reads `privacy` in the fit config); the coordinator only hands the already-noised
 *   mean of the secure sum to the inner strategy.
 *
 * @example
 * const strategy = withPrivacy(new FedAvg(), { ...NO_PRIVACY, mode: 'central', noiseMultiplier: 1.1 });
 */
export function withPrivacy(
  inner: Strategy,
  privacy: PrivacySpec,
  options: PrivateStrategyOptions = {},
): Strategy {
  if (privacy.mode === 'none') return inner;
  if (inner.requiresIndividualUpdates) {
    throw new FedlearnError(
      'STRATEGY_INCOMPATIBLE',
      `strategy ${inner.name} needs each client's update; DP-FedAvg releases only their noised sum: use a sum-only strategy (fedavg, fedprox, fedavgm, fedadam, ...)`,
      { details: { strategy: inner.name } },
    );
  }
  return new PrivateStrategy(inner, privacy, options);
}

class PrivateStrategy implements Strategy {
  readonly requiresIndividualUpdates = false;
  private readonly rng: Rng | undefined;

  constructor(
    private readonly inner: Strategy,
    private readonly privacy: PrivacySpec,
    private readonly options: PrivateStrategyOptions,
  ) {
    if (privacy.mode === 'distributed' && options.ring === undefined) {
      throw new FedlearnError(
        'INVALID_CONFIG',
        'distributed DP runs under secure aggregation: give its ring',
      );
    }
    this.rng = privacy.mode === 'central' ? (options.rng ?? cryptoRng()) : undefined;
  }

  get name(): string {
    return this.inner.name;
  }
  get minAvailableClients(): number {
    return this.inner.minAvailableClients;
  }
  get minFitClients(): number {
    return this.inner.minFitClients;
  }

  configureFit(round: number, available: readonly ClientInfo[], rng: Rng): string[] {
    return this.inner.configureFit(round, available, rng);
  }

  configureEvaluate(round: number, available: readonly ClientInfo[], rng: Rng): string[] {
    return this.inner.configureEvaluate(round, available, rng);
  }

  fitConfig(round: number): StrategyFitConfig {
    const { clipNorm, noiseMultiplier } = this.privacy;
    const ring = this.options.ring;
    const noise: DistributedNoise | undefined = ring
      ? { noiseMultiplier, clients: this.inner.minFitClients, clipRange: ring.clipRange, bits: ring.bits }
      : undefined;
    return { ...this.inner.fitConfig?.(round), privacy: { clipNorm, ...(noise ? { noise } : {}) } };
  }

  beginRound(round: number, global: Float32Array): RoundAggregation {
    if (this.rng === undefined) return this.inner.beginRound(round, global);
    return centralDpRound(this.inner, round, global, this.privacy, this.rng);
  }

  aggregateEvaluate(round: number, results: readonly EvaluateResult[]): AggregatedEvaluation | undefined {
    return this.inner.aggregateEvaluate(round, results);
  }

  state(): StrategyState {
    return this.inner.state();
  }

  restore(state: StrategyState): void {
    this.inner.restore(state);
  }
}

/** One central-DP round: clip each Δ to C, sum in float64, add N(0, (σC)²), hand the mean on. */
function centralDpRound(
  inner: Strategy,
  round: number,
  global: Float32Array,
  privacy: PrivacySpec,
  rng: Rng,
): RoundAggregation {
  const sum = new Float64Array(global.length);
  const delta = new Float64Array(global.length);
  const metrics = new MetricMean();
  let count = 0;
  return {
    get count() {
      return count;
    },
    add(result: FitResult) {
      for (let i = 0; i < delta.length; i++) {
        delta[i] = (result.params[i] as number) - (global[i] as number);
      }
      clipToNorm(delta, privacy.clipNorm);
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (delta[i] as number);
      metrics.add(result);
      count++;
    },
    finish() {
      if (count === 0) throw new FedlearnError('AGGREGATION_EMPTY', `round ${round}: no updates to noise`);
      addGaussianNoise(sum, privacy.noiseMultiplier * privacy.clipNorm, rng);
      const mean = new Float32Array(global.length);
      for (let i = 0; i < mean.length; i++) mean[i] = (global[i] as number) + (sum[i] as number) / count;
      const aggregation = inner.beginRound(round, global);
      try {
        aggregation.add({ clientId: 'dp-sum', numExamples: count, params: mean, metrics: {} });
        return { params: aggregation.finish().params, metrics: metrics.mean() };
      } finally {
        aggregation.dispose();
      }
    },
    dispose() {
      sum.fill(0);
    },
  };
}
