import { FedlearnError, type PrivacySpecInput, ringClipFor } from '@fedlearn/core';

/** The privacy settings the demo and experiment take: a DP mode and DP-FedAvg's parameters. */
export interface DpSetting {
  mode: 'none' | 'central' | 'distributed';
  /** σ */
  noise: number;
  /** C */
  clip: number;
  delta: number;
  /** Target ε: the job stops at the last round within it. */
  epsilon?: number;
}

export const NO_DP: DpSetting = { mode: 'none', noise: 1, clip: 1, delta: 1e-5 };

const DP_KEYS = new Set(['noise', 'clip', 'delta', 'epsilon']);

/**
 * Reads `none` or `MODE[:noise=σ,clip=C,delta=δ,epsilon=ε]` (MODE central or distributed), e.g.
 * `central:noise=1.1,clip=0.5`.
 *
 * @throws FedlearnError `INVALID_CONFIG` for an unknown mode or key, or a value that is not a positive number.
 */
export function dpOption(value: string | undefined): DpSetting {
  if (value === undefined || value === 'none') return NO_DP;
  const [mode = '', list] = value.split(/:(.*)/s, 2);
  if (mode !== 'central' && mode !== 'distributed') {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `--dp is none, central[:...] or distributed[:...], got "${value.slice(0, 60)}"`,
    );
  }
  const setting: DpSetting = { ...NO_DP, mode };
  for (const pair of list ? list.split(',') : []) {
    const [key = '', raw = ''] = pair.trim().split('=', 2);
    const number = Number(raw);
    if (!DP_KEYS.has(key) || !(number > 0) || !Number.isFinite(number)) {
      throw new FedlearnError(
        'INVALID_CONFIG',
        `--dp options are noise, clip, delta, epsilon = a positive number, got "${pair.slice(0, 60)}"`,
      );
    }
    (setting as unknown as Record<string, number>)[key] = number;
  }
  return setting;
}

export function formatDp(dp: DpSetting): string {
  if (dp.mode === 'none') return 'none';
  return `${dp.mode}(σ=${dp.noise}, C=${dp.clip}${dp.epsilon ? `, ε≤${dp.epsilon}` : ''})`;
}

/** Bits of the secure-aggregation grid under distributed DP: finer than the demo's 16, the noise is in whole steps. */
export const DISTRIBUTED_DP_BITS = 20;

/**
 * The job's `privacy` section and what it changes in `secagg`: under distributed DP each client
 * counts once (maxWeight 1) and the ring is widened to hold a clipped update plus its noise share.
 */
export function privacyJobSettings(
  dp: DpSetting,
  quorum: number,
  dimension: number,
): { privacy: PrivacySpecInput; secagg: Record<string, unknown> } {
  if (dp.mode === 'none') return { privacy: { mode: 'none' }, secagg: {} };
  const privacy: PrivacySpecInput = {
    mode: dp.mode,
    noiseMultiplier: dp.noise,
    clipNorm: dp.clip,
    delta: dp.delta,
    ...(dp.epsilon === undefined ? {} : { targetEpsilon: dp.epsilon, onBudgetExceeded: 'stop' as const }),
  };
  if (dp.mode === 'central') return { privacy, secagg: {} };
  const noise = { noiseMultiplier: dp.noise, clients: quorum, bits: DISTRIBUTED_DP_BITS };
  return {
    privacy,
    secagg: { clip: ringClipFor(noise, dp.clip, dimension), bits: DISTRIBUTED_DP_BITS, maxWeight: 1 },
  };
}
