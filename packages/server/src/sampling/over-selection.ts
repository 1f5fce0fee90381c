import type { ClientInfo, Rng } from '@fedlearn/core';
import type { ClientRecords } from './client-records.js';

export interface OverSelection {
  /** The clients asked to train: the strategy's choice plus the extra ones. */
  sampled: string[];
  /** Results the round waits for before closing: as many as the strategy chose. */
  quorum: number;
}

/**
 * Over-selection (Bonawitz et al., "Towards Federated Learning at Scale", 2019): asks
 * ⌈target · overSelection⌉ more clients than the strategy chose and closes the round once `target`
 * updates arrived, so a few stragglers do not hold every round to its deadline. The extra clients
 * are the most reliable of those not chosen (ties broken by a seeded shuffle, so runs replay).
 */
export function overSelect(
  chosen: readonly string[],
  eligible: readonly ClientInfo[],
  overSelection: number,
  records: ClientRecords,
  rng: Rng,
): OverSelection {
  const extra = Math.ceil(chosen.length * overSelection);
  if (extra === 0) return { sampled: [...chosen], quorum: chosen.length };
  const taken = new Set(chosen);
  const rest = eligible
    .map((c) => c.clientId)
    .filter((id) => !taken.has(id))
    .sort()
    .map((id) => ({ id, reliability: records.reliability(id), tie: rng.next() }))
    .sort((a, b) => b.reliability - a.reliability || a.tie - b.tie);
  const sampled = [...chosen, ...rest.slice(0, extra).map((c) => c.id)];
  return { sampled, quorum: chosen.length };
}
