import { FedlearnError } from '../errors.js';
import type { PrivacySpec, PrivacySpent } from './privacy-spec.js';
import { DEFAULT_RDP_ORDERS, epsilonFromRdp, sampledGaussianRdp } from './rdp-accountant.js';

/**
 * A private job's running account: the Rényi DP of every round that released a noised aggregate,
 * at the sampling rate it really had, composed by addition (Mironov 2017) and converted to ε at the
 * job's δ. The coordinator asks it before each round whether the round still fits the budget.
 *
 * @example
 * const ledger = new PrivacyLedger(spec.privacy);
 * if (ledger.allows(q)) { runRound(); ledger.record(q); }
 * ledger.spent().epsilon;
 */
export class PrivacyLedger {
  private readonly rdp: Float64Array;
  private steps = 0;
  private lastRate = 0;

  constructor(
    private readonly privacy: PrivacySpec,
    private readonly orders: readonly number[] = DEFAULT_RDP_ORDERS,
  ) {
    if (privacy.mode === 'none') throw new FedlearnError('INTERNAL', 'a privacy ledger needs a private job');
    this.rdp = new Float64Array(orders.length);
  }

  /** True when one more round at sampling rate q keeps ε within the target (always, without one). */
  allows(samplingRate: number): boolean {
    const target = this.privacy.targetEpsilon;
    if (target === undefined) return true;
    return this.epsilonWith(this.stepRdp(samplingRate)) <= target;
  }

  /** Adds one round that released a noised aggregate, with clients sampled at rate q. */
  record(samplingRate: number): PrivacySpent {
    const step = this.stepRdp(samplingRate);
    for (let i = 0; i < step.length; i++) this.rdp[i] = (this.rdp[i] as number) + (step[i] as number);
    this.steps++;
    this.lastRate = samplingRate;
    return this.spent();
  }

  spent(): PrivacySpent {
    const { mode, delta, noiseMultiplier, clipNorm } = this.privacy;
    return {
      mode: mode as PrivacySpent['mode'],
      epsilon: this.steps === 0 ? 0 : this.epsilonWith(undefined),
      delta,
      steps: this.steps,
      noiseMultiplier,
      samplingRate: this.lastRate,
      clipNorm,
    };
  }

  private stepRdp(q: number): number[] {
    return this.orders.map((alpha) => sampledGaussianRdp(q, this.privacy.noiseMultiplier, alpha));
  }

  private epsilonWith(step: readonly number[] | undefined): number {
    const total = Array.from(this.rdp, (r, i) => r + (step?.[i] ?? 0));
    return epsilonFromRdp(this.orders, total, this.privacy.delta).epsilon;
  }
}
