import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { hyperparameter, type StrategyDefinition, samplingOptionsSchema } from './strategy-options.js';
import type { StrategyFitConfig } from './types.js';

export interface FedProxOptions extends FedAvgOptions {
  /** μ, the proximal coefficient sent to clients. Default 0.01. */
  proximalMu?: number;
}

/**
 * FedProx (Li, Sahu, Zaheer, Sanjabi, Talwalkar and Smith, "Federated Optimization in
 * Heterogeneous Networks", MLSys 2020): each client minimises its loss plus μ/2·‖w − w_global‖²,
 * which keeps local models near the global one on heterogeneous data. The server side is FedAvg;
 * μ travels in the round's fit config and the client's trainer applies the term.
 */
export class FedProx extends FedAvg {
  override readonly name = 'fedprox';
  private readonly proximalMu: number;

  constructor(options: FedProxOptions = {}) {
    super(options);
    this.proximalMu = options.proximalMu ?? 0.01;
  }

  fitConfig(_round: number): StrategyFitConfig {
    return { proximalMu: this.proximalMu };
  }

  protected override options(): Record<string, unknown> {
    return { proximalMu: this.proximalMu };
  }
}

export const fedProxDefinition: StrategyDefinition = {
  name: 'fedprox',
  summary: 'FedAvg with a proximal term μ/2·‖w − w_global‖² in the clients’ loss (Li et al. 2020)',
  options: samplingOptionsSchema.extend({ proximalMu: hyperparameter(0, 1000).default(0.01) }).strict(),
  create: (o: FedProxOptions) => new FedProx(o),
};
