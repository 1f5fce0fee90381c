import { assertSameSpecs, flattenParams, type ModelParams, specsOf } from '../../params/tensors.js';
import type { FitReply } from './types.js';

/** The local update as a delta from the global model, in the model's weight order. */
export function updateDelta(trained: ModelParams, global: ModelParams): Float32Array {
  assertSameSpecs(specsOf(global), specsOf(trained));
  const local = flattenParams(trained);
  const base = flattenParams(global);
  for (let i = 0; i < local.length; i++) local[i] = (local[i] as number) - (base[i] as number);
  return local;
}

/** The reply's update as a float64 delta a mod may change in place (computed on first use). */
export function mutableUpdate(reply: FitReply): Float64Array {
  if (reply.update instanceof Float64Array) return reply.update;
  const update = Float64Array.from(reply.update ?? updateDelta(reply.outcome.params, reply.global));
  reply.update = update;
  return update;
}
