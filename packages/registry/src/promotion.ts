import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import { CHAMPION } from './names.js';
import type { Registry } from './registry.js';
import type { AliasMove, ModelVersionInfo } from './types.js';

/**
 * When a challenger replaces the champion: its `metric` must be better in `direction` by more
 * than zero and at least `minDelta`.
 *
 * @example { metric: 'accuracy', direction: 'max', minDelta: 0.005 }
 */
export interface PromotionPolicy {
  metric: string;
  direction: 'max' | 'min';
  minDelta: number;
}

export const promotionPolicySchema = z.object({
  metric: z.string().min(1).max(250),
  direction: z.enum(['max', 'min']),
  minDelta: z.number().min(0).finite(),
});

/** Promote on any strict improvement of `accuracy`. */
export const DEFAULT_PROMOTION_POLICY: PromotionPolicy = {
  metric: 'accuracy',
  direction: 'max',
  minDelta: 0,
};

/** What the policy decided for one challenger, and why (recorded as the move's reason). */
export interface PromotionDecision {
  promote: boolean;
  reason: string;
  challenger: number;
  champion: number | null;
}

/** Pure: decides whether `challenger` should become champion under `policy`. */
export function decidePromotion(
  policy: PromotionPolicy,
  challenger: ModelVersionInfo,
  champion: ModelVersionInfo | null,
): PromotionDecision {
  const base = { challenger: challenger.version, champion: champion?.version ?? null };
  const c = challenger.metrics[policy.metric];
  if (c === undefined) {
    return { ...base, promote: false, reason: `challenger v${challenger.version} has no ${policy.metric}` };
  }
  if (!champion) return { ...base, promote: true, reason: `no champion yet; ${policy.metric}=${c}` };
  if (champion.version === challenger.version) return { ...base, promote: false, reason: 'already champion' };
  const d = champion.metrics[policy.metric];
  if (d === undefined) {
    return {
      ...base,
      promote: true,
      reason: `champion v${champion.version} has no ${policy.metric}; challenger has ${c}`,
    };
  }
  const gain = policy.direction === 'max' ? c - d : d - c;
  const verdict = gain > 0 && gain >= policy.minDelta;
  const reason =
    `${policy.metric} ${c} vs champion v${champion.version} ${d}: ` +
    `${verdict ? 'better' : 'not better'} by ${gain.toPrecision(4)} (${policy.direction}, min delta ${policy.minDelta})`;
  return { ...base, promote: verdict, reason };
}

async function currentChampion(registry: Registry, name: string): Promise<ModelVersionInfo | null> {
  try {
    return await registry.getVersionByAlias(name, CHAMPION);
  } catch (error) {
    if (isFedlearnError(error, 'REGISTRY_NOT_FOUND')) return null;
    throw error;
  }
}

/** Applies `policy` to `version`; moves `champion` (recorded in the audit trail) when it wins. */
export async function applyPromotionPolicy(
  registry: Registry,
  name: string,
  version: number,
  policy: PromotionPolicy,
  actor = 'promotion-policy',
): Promise<PromotionDecision & { move?: AliasMove }> {
  const challenger = await registry.getVersion(name, version);
  const decision = decidePromotion(policy, challenger, await currentChampion(registry, name));
  if (!decision.promote) return decision;
  const move = await registry.setAlias(name, CHAMPION, version, { actor, reason: decision.reason });
  return { ...decision, move };
}

/**
 * Manual promotion: makes `version` the champion regardless of metrics, recording who and why.
 *
 * @example await promote(registry, 'mnist', 4, { actor: 'alice', reason: 'A/B test won' })
 */
export async function promote(
  registry: Registry,
  name: string,
  version: number,
  audit: { actor: string; reason: string },
): Promise<AliasMove> {
  if (!audit.actor.trim()) throw new FedlearnError('INVALID_ARGUMENT', 'a promotion needs an actor');
  return registry.setAlias(name, CHAMPION, version, {
    actor: audit.actor,
    reason: audit.reason || 'manual promotion',
  });
}
