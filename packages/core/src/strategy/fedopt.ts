import type { SamplingStrategyOptions } from './sampled-strategy.js';
import { ServerOptimizerStrategy } from './server-optimizer.js';
import { hyperparameter, type StrategyDefinition, samplingOptionsSchema } from './strategy-options.js';

export interface FedAdaptiveOptions extends SamplingStrategyOptions {
  /** η, the server learning rate. Default 0.01. */
  eta?: number;
  /** β1, the first-moment decay. Default 0.9. */
  beta1?: number;
  /** β2, the second-moment decay (FedAdam, FedYogi). Default 0.99. */
  beta2?: number;
  /** τ, the adaptivity: larger is closer to momentum SGD. Default 1e-3. */
  tau?: number;
}

type SecondMoment = 'adagrad' | 'adam' | 'yogi';

/**
 * The FedOpt family of Reddi et al., "Adaptive Federated Optimization" (ICLR 2021), Algorithm 2:
 * with Δ = mean − x, m ← β1·m + (1 − β1)·Δ, then v by the variant's rule, and
 * x ← x + η·m / (√v + τ); v starts at τ² (v₋₁ ≥ τ² in the paper) and there is no bias correction.
 */
abstract class FedAdaptive extends ServerOptimizerStrategy {
  protected readonly hyper: Required<Pick<FedAdaptiveOptions, 'eta' | 'beta1' | 'beta2' | 'tau'>>;

  constructor(
    options: FedAdaptiveOptions,
    private readonly rule: SecondMoment,
  ) {
    super(options, ['m', 'v']);
    this.hyper = {
      eta: options.eta ?? 0.01,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.99,
      tau: options.tau ?? 1e-3,
    };
  }

  protected initialMoments(length: number): Record<string, Float64Array> {
    return { m: new Float64Array(length), v: new Float64Array(length).fill(this.hyper.tau ** 2) };
  }

  protected step(global: Float32Array, mean: Float32Array, next: Float32Array): void {
    const { eta, beta1, beta2, tau } = this.hyper;
    const m = this.moments.m as Float64Array;
    const v = this.moments.v as Float64Array;
    const rule = this.rule;
    for (let i = 0; i < next.length; i++) {
      const x = global[i] as number;
      const delta = (mean[i] as number) - x;
      const squared = delta * delta;
      const mi = beta1 * (m[i] as number) + (1 - beta1) * delta;
      let vi = v[i] as number;
      if (rule === 'adagrad') vi += squared;
      else if (rule === 'adam') vi = beta2 * vi + (1 - beta2) * squared;
      else vi -= (1 - beta2) * squared * Math.sign(vi - squared);
      m[i] = mi;
      v[i] = vi;
      next[i] = x + (eta * mi) / (Math.sqrt(vi) + tau);
    }
  }

  protected options(): Record<string, unknown> {
    return { ...this.hyper };
  }
}

/** FedAdagrad (Reddi et al., ICLR 2021): v ← v + Δ². */
export class FedAdagrad extends FedAdaptive {
  readonly name = 'fedadagrad';
  constructor(options: FedAdaptiveOptions = {}) {
    super(options, 'adagrad');
  }
}

/** FedAdam (Reddi et al., ICLR 2021): v ← β2·v + (1 − β2)·Δ². */
export class FedAdam extends FedAdaptive {
  readonly name = 'fedadam';
  constructor(options: FedAdaptiveOptions = {}) {
    super(options, 'adam');
  }
}

/** FedYogi (Reddi et al., ICLR 2021): v ← v − (1 − β2)·Δ²·sign(v − Δ²), which grows v more gently than Adam. */
export class FedYogi extends FedAdaptive {
  readonly name = 'fedyogi';
  constructor(options: FedAdaptiveOptions = {}) {
    super(options, 'yogi');
  }
}

export interface FedAvgMOptions extends SamplingStrategyOptions {
  /** η, the server learning rate. Default 1 (with β = 0 this is FedAvg). */
  serverLearningRate?: number;
  /** β, the server momentum. Default 0.9. */
  serverMomentum?: number;
}

/**
 * FedAvgM: FedAvg with server momentum (Hsu, Qi and Brown, "Measuring the Effects of Non-Identical
 * Data Distribution for Federated Visual Classification", 2019): v ← β·v + Δ, x ← x + η·v.
 */
export class FedAvgM extends ServerOptimizerStrategy {
  readonly name = 'fedavgm';
  private readonly hyper: Required<Pick<FedAvgMOptions, 'serverLearningRate' | 'serverMomentum'>>;

  constructor(options: FedAvgMOptions = {}) {
    super(options, ['momentum']);
    this.hyper = {
      serverLearningRate: options.serverLearningRate ?? 1,
      serverMomentum: options.serverMomentum ?? 0.9,
    };
  }

  protected initialMoments(length: number): Record<string, Float64Array> {
    return { momentum: new Float64Array(length) };
  }

  protected step(global: Float32Array, mean: Float32Array, next: Float32Array): void {
    const { serverLearningRate: eta, serverMomentum: beta } = this.hyper;
    const momentum = this.moments.momentum as Float64Array;
    for (let i = 0; i < next.length; i++) {
      const x = global[i] as number;
      const vi = beta * (momentum[i] as number) + ((mean[i] as number) - x);
      momentum[i] = vi;
      next[i] = x + eta * vi;
    }
  }

  protected options(): Record<string, unknown> {
    return { ...this.hyper };
  }
}

const adaptiveOptions = samplingOptionsSchema
  .extend({
    eta: hyperparameter(1e-8, 100).default(0.01),
    beta1: hyperparameter(0, 0.999999).default(0.9),
    beta2: hyperparameter(0, 0.999999).default(0.99),
    tau: hyperparameter(1e-12, 10).default(1e-3),
  })
  .strict();

const adaptive = (name: string, summary: string, create: (o: FedAdaptiveOptions) => FedAdaptive) =>
  ({ name, summary, options: adaptiveOptions, create }) satisfies StrategyDefinition;

export const fedAdagradDefinition = adaptive(
  'fedadagrad',
  'server Adagrad on the mean update (Reddi et al. 2021)',
  (o) => new FedAdagrad(o),
);
export const fedAdamDefinition = adaptive(
  'fedadam',
  'server Adam on the mean update (Reddi et al. 2021)',
  (o) => new FedAdam(o),
);
export const fedYogiDefinition = adaptive(
  'fedyogi',
  'server Yogi on the mean update (Reddi et al. 2021)',
  (o) => new FedYogi(o),
);

export const fedAvgMDefinition: StrategyDefinition = {
  name: 'fedavgm',
  summary: 'FedAvg with server momentum (Hsu et al. 2019)',
  options: samplingOptionsSchema
    .extend({
      serverLearningRate: hyperparameter(1e-8, 100).default(1),
      serverMomentum: hyperparameter(0, 0.999999).default(0.9),
    })
    .strict(),
  create: (o: FedAvgMOptions) => new FedAvgM(o),
};
