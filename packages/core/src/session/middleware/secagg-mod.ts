import { FedlearnError } from '../../errors.js';
import { checkPlainRoundAllowed, type SecAggPolicy } from '../../secagg/policy.js';
import type { SecAggParticipant } from '../secagg-participant.js';
import type { ClientMod } from './types.js';
import { updateDelta } from './update.js';

/**
 * Secure aggregation as a client step: a plain round is refused before training when this
 * client's policy requires secure aggregation; in a secure round the trained update (a delta, with
 * its weight) goes to the SecAgg+ participant, which masks and sends it, and no `fit_res` is sent.
 */
export function secureAggregationMod(
  participant: SecAggParticipant | undefined,
  policy: SecAggPolicy | undefined,
): ClientMod {
  return async (task, next) => {
    if (!task.secureAggregation) {
      checkPlainRoundAllowed(policy);
      return next(task);
    }
    const reply = await next(task);
    if (!participant) {
      throw new FedlearnError('INVALID_ARGUMENT', 'this client does not take part in secure aggregation');
    }
    const update = reply.update ?? updateDelta(reply.outcome.params, reply.global);
    await participant.contribute(task.jobId, task.round, { update, weight: reply.weight });
    reply.delivered = { bytesUp: 0 };
    return reply;
  };
}
