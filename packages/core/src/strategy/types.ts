import type { FitPrivacy } from '../privacy/distributed-noise.js';
import type { Rng } from '../random.js';

/** What the coordinator knows about a connected client. */
export interface ClientInfo {
  clientId: string;
  numExamples: number;
  numEvalExamples: number;
  capabilities: { secagg: boolean; backend: string };
  dataFingerprint?: DataFingerprint;
}

/** A hash and size of a client's training data: lineage without the data. */
export interface DataFingerprint {
  sha256: string;
  examples: number;
}

/** One client's result of local training: its new weights, flat in the model's weight order. */
export interface FitResult {
  clientId: string;
  numExamples: number;
  params: Float32Array;
  metrics: Record<string, number>;
}

export interface EvaluateResult {
  clientId: string;
  numExamples: number;
  loss: number;
  metrics: Record<string, number>;
}

export interface AggregatedEvaluation {
  loss: number;
  numExamples: number;
  metrics: Record<string, number>;
}

/** Folds the fit results of one round, one at a time, into the next global model. */
export interface RoundAggregation {
  readonly count: number;
  add(result: FitResult): void;
  /** The new global parameters and the example-weighted mean of the clients' metrics. */
  finish(): { params: Float32Array; metrics: Record<string, number> };
  /** Ends the round: its buffers may be reused by the next round. Call after finish() or to abandon it. */
  dispose(): void;
}

/**
 * A federated strategy: pure decisions, no sockets inside. The coordinator asks it whom to train
 * and evaluate each round and hands it results as they arrive.
 *
 * @example
 * const strategy = new FedAvg({ fractionFit: 0.5, minFitClients: 2 });
 * const sampled = strategy.configureFit(1, clients, rng);
 */
export interface Strategy {
  readonly name: string;
  /**
   * True when aggregation needs each client's update in the clear (median, Krum, ...): such a
   * strategy cannot run under secure aggregation, where only the sum is revealed.
   */
  readonly requiresIndividualUpdates: boolean;
  /** Fewest clients that must be connected before a round starts. */
  readonly minAvailableClients: number;
  /** Fewest fit results a round needs to produce a model (its quorum). */
  readonly minFitClients: number;
  configureFit(round: number, available: readonly ClientInfo[], rng: Rng): string[];
  configureEvaluate(round: number, available: readonly ClientInfo[], rng: Rng): string[];
  /** What the strategy adds to each sampled client's fit instructions this round (e.g. FedProx's μ). */
  fitConfig?(round: number): StrategyFitConfig;
  beginRound(round: number, global: Float32Array): RoundAggregation;
  aggregateEvaluate(round: number, results: readonly EvaluateResult[]): AggregatedEvaluation | undefined;
  /**
   * The server-side state a resumed job needs to continue (optimiser moments, ...), saved with each
   * round. A copy: later rounds do not change it.
   */
  state(): StrategyState;
  /**
   * Continues from a state `state()` returned, e.g. after a coordinator restart.
   *
   * @throws FedlearnError `INVALID_CONFIG` if the state is another strategy's or does not fit.
   */
  restore(state: StrategyState): void;
}

/**
 * A strategy's state: plain JSON plus float64 vectors (structured-cloneable, so a store can write
 * the vectors as binary rather than as JSON numbers).
 */
export interface StrategyState {
  name: string;
  options: Record<string, unknown>;
  /** Rounds aggregated so far (for bias corrections and schedules); 0 when the strategy keeps none. */
  round?: number;
  tensors: Record<string, Float64Array>;
}

/** The fit instructions a strategy may set; the job's `fit` settings supply the rest. */
export interface StrategyFitConfig {
  proximalMu?: number;
  privacy?: FitPrivacy;
}
