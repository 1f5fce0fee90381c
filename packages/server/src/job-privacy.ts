import { PrivacyLedger, type Rng, type Strategy, withPrivacy } from '@fedlearn/core';
import type { JobPrivacy, RoundSummary } from './events.js';
import type { JobSpec } from './job-spec.js';

/** The job's strategy wrapped in DP-FedAvg when the job asks for privacy (see `withPrivacy`). */
export function privateStrategy(strategy: Strategy, spec: JobSpec, rng: Rng | undefined): Strategy {
  const { privacy, secagg } = spec;
  return withPrivacy(strategy, privacy, {
    ...(rng ? { rng } : {}),
    ...(privacy.mode === 'distributed' ? { ring: { clipRange: secagg.clip, bits: secagg.bits } } : {}),
  });
}

/**
 * A job's privacy account, round by round: whether the next round fits the budget (at the rate the
 * round can sample at worst), ε in each round's summary, and the job's total at the end.
 */
export class JobPrivacyAccount {
  private readonly ledger: PrivacyLedger | undefined;
  private stopped: JobPrivacy['stopped'];

  constructor(private readonly spec: JobSpec) {
    this.ledger = spec.privacy.mode === 'none' ? undefined : new PrivacyLedger(spec.privacy);
  }

  /** q for a round: the fraction sampled, or more when the minimum number of clients forces it. */
  samplingRate(eligible: number): number {
    const { fractionFit, minFitClients } = this.spec.strategy;
    return eligible === 0 ? 1 : Math.min(1, Math.max(fractionFit, minFitClients / eligible));
  }

  /** False (and the reason kept for the job) when round `round` would take ε past the target. */
  allows(round: number, eligible: number): boolean {
    if (!this.ledger || this.ledger.allows(this.samplingRate(eligible))) return true;
    const { targetEpsilon, delta } = this.spec.privacy;
    this.stopped = {
      atRound: round - 1,
      requestedRounds: this.spec.rounds,
      reason: `round ${round} would spend more than the target ε = ${targetEpsilon} (δ = ${delta}): the job stops after round ${round - 1}`,
    };
    return false;
  }

  /** A resumed job's completed rounds, counted again at the rates they had: ε survives a restart. */
  replay(rounds: readonly RoundSummary[]): void {
    if (!this.ledger) return;
    for (const round of rounds) {
      if (round.status === 'ok' && round.privacy) this.ledger.record(round.privacy.samplingRate);
    }
  }

  /** Counts a round that released a model and puts ε so far in its summary. */
  record(summary: RoundSummary, eligible: number): void {
    if (!this.ledger || summary.status !== 'ok') return;
    summary.privacy = this.ledger.record(this.samplingRate(eligible));
  }

  summary(): JobPrivacy | undefined {
    if (!this.ledger) return undefined;
    const spent = this.ledger.spent();
    const { targetEpsilon } = this.spec.privacy;
    return {
      mode: spent.mode,
      epsilon: spent.epsilon,
      delta: spent.delta,
      ...(targetEpsilon === undefined ? {} : { targetEpsilon }),
      rounds: spent.steps,
      ...(this.stopped ? { stopped: this.stopped } : {}),
    };
  }
}
