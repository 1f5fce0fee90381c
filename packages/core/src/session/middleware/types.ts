import type { ModelParams } from '../../params/tensors.js';
import type { FitIns } from '../../protocol/messages.js';
import type { FitOutcome } from '../types.js';

/**
 * A trained update on its way to the coordinator. Mods change it (clip, noise) or deliver it
 * themselves (secure aggregation); what no mod delivered, the session uploads as `fit_res`.
 */
export interface FitReply {
  /** What the trainer returned. */
  outcome: FitOutcome;
  /** The global model the round started from. */
  global: ModelParams;
  /**
   * The update as a delta from `global`, once a mod needed it (float64 after a mod changed it).
   * When set, the plain upload sends global + update instead of `outcome.params`.
   */
  update?: Float32Array | Float64Array;
  /** The update's weight in the aggregate: its number of examples, or 1 under DP (uniform weights). */
  weight: number;
  /** Set by the mod that delivered the update itself; the session then uploads nothing. */
  delivered?: { bytesUp: number };
}

/**
 * One step around local training, as Flower's client mods are: it may act before calling `next`
 * (refuse the task), and on the reply after (clip, add noise, mask and send).
 *
 * @example
 * const log: ClientMod = async (task, next) => {
 *   const reply = await next(task);
 *   console.log(`round ${task.round}: ${reply.weight}`);
 *   return reply;
 * };
 */
export type ClientMod = (task: FitIns, next: (task: FitIns) => Promise<FitReply>) => Promise<FitReply>;

/** Wraps `train` in `mods`, the first outermost: its after-step runs last. */
export function composeMods(
  mods: readonly ClientMod[],
  train: (task: FitIns) => Promise<FitReply>,
): (task: FitIns) => Promise<FitReply> {
  return mods.reduceRight<(task: FitIns) => Promise<FitReply>>(
    (next, mod) => (task) => mod(task, next),
    train,
  );
}
