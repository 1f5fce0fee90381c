import { z } from 'zod';
import { FedlearnError } from '../errors.js';
import { computeEpsilon } from './rdp-accountant.js';

/**
 * A job's differential-privacy settings (client-level DP-FedAvg, McMahan et al., ICLR 2018).
 * `central`: the coordinator clips each update to `clipNorm` and adds N(0, (σ·C)²) to the sum.
 * `distributed`: under secure aggregation, each client clips its update and adds its share of
 * Skellam noise in the integer ring before masking, so the unmasked sum is already noised.
 */
export const privacySpecSchema = z
  .object({
    mode: z.enum(['none', 'central', 'distributed']).default('none'),
    /** C: the L2 norm every client's update (a delta from the global model) is clipped to. */
    clipNorm: z.number().positive().finite().max(1e6).default(1),
    /** σ: the noise on the sum has standard deviation σ·C. */
    noiseMultiplier: z.number().positive().finite().max(1e6).default(1),
    /** δ of the (ε, δ) guarantee reported and budgeted. */
    delta: z.number().gt(0).lt(1).default(1e-5),
    /** Refuse (or stop) a job whose ε would exceed this. */
    targetEpsilon: z.number().positive().finite().optional(),
    /** With a target: `refuse` the job at submission, or `stop` it after the last round within budget. */
    onBudgetExceeded: z.enum(['refuse', 'stop']).default('refuse'),
  })
  .strict();

export type PrivacySpec = z.infer<typeof privacySpecSchema>;
export type PrivacySpecInput = z.input<typeof privacySpecSchema>;

export const NO_PRIVACY: PrivacySpec = {
  mode: 'none',
  clipNorm: 1,
  noiseMultiplier: 1,
  delta: 1e-5,
  onBudgetExceeded: 'refuse',
};

/** What the accountant reports after a round: ε spent so far at the job's δ. */
export interface PrivacySpent {
  mode: 'central' | 'distributed';
  epsilon: number;
  delta: number;
  /** Rounds that released a noised aggregate so far. */
  steps: number;
  noiseMultiplier: number;
  samplingRate: number;
  clipNorm: number;
}

/** The plan of a private job: how many rounds it may run and the ε it will have spent. */
export interface PrivacyPlan {
  /** Rounds the job will run: all of them, or the last within budget with `onBudgetExceeded: 'stop'`. */
  rounds: number;
  /** ε after `rounds` rounds. */
  epsilon: number;
  /** Set when the budget cut the job short. */
  stoppedEarly?: { requested: number; epsilonOfRequested: number };
}

/**
 * ε after `steps` rounds. Clients are sampled without replacement at rate q = fractionFit; the
 * accountant treats that as Poisson sampling at rate q, as McMahan et al. (2018) and TensorFlow
 * Federated do (with q = 1, as in the demo, there is no difference).
 */
export function privacySpent(privacy: PrivacySpec, samplingRate: number, steps: number): PrivacySpent {
  if (privacy.mode === 'none') throw new FedlearnError('INTERNAL', 'privacySpent needs a private job');
  const { epsilon } = computeEpsilon(
    { samplingRate, noiseMultiplier: privacy.noiseMultiplier, steps },
    privacy.delta,
  );
  return {
    mode: privacy.mode,
    epsilon,
    delta: privacy.delta,
    steps,
    noiseMultiplier: privacy.noiseMultiplier,
    samplingRate,
    clipNorm: privacy.clipNorm,
  };
}

/**
 * Checks a private job's plan against its budget before it starts.
 *
 * @throws FedlearnError `PRIVACY_BUDGET_EXCEEDED` when the requested rounds would spend more than
 * `targetEpsilon` and `onBudgetExceeded` is `refuse`, or when not even one round fits.
 * @example
 * planPrivacy({ ...spec, targetEpsilon: 8, onBudgetExceeded: 'stop' }, 1, 50); // { rounds: 31, ... }
 */
export function planPrivacy(privacy: PrivacySpec, samplingRate: number, rounds: number): PrivacyPlan {
  const epsilonAt = (steps: number) => privacySpent(privacy, samplingRate, steps).epsilon;
  const full = epsilonAt(rounds);
  const target = privacy.targetEpsilon;
  if (target === undefined || full <= target) return { rounds, epsilon: full };
  const within = lastRoundWithin(epsilonAt, rounds, target);
  const details = {
    targetEpsilon: target,
    epsilon: full,
    rounds,
    roundsWithinBudget: within,
    delta: privacy.delta,
  };
  if (privacy.onBudgetExceeded === 'refuse' || within === 0) {
    throw new FedlearnError(
      'PRIVACY_BUDGET_EXCEEDED',
      `${rounds} rounds at noise multiplier ${privacy.noiseMultiplier} spend ε = ${full.toFixed(3)} (δ = ${privacy.delta}), over the target ${target}; ${within} rounds fit`,
      { details },
    );
  }
  return {
    rounds: within,
    epsilon: epsilonAt(within),
    stoppedEarly: { requested: rounds, epsilonOfRequested: full },
  };
}

/** ε grows with the rounds, so the last round within budget is found by bisection. */
function lastRoundWithin(epsilonAt: (steps: number) => number, rounds: number, target: number): number {
  let lo = 0;
  let hi = rounds;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (epsilonAt(mid) <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
