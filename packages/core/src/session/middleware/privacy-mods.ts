import { clipToNorm } from '../../privacy/clip.js';
import { noiseShare } from '../../privacy/distributed-noise.js';
import { addSkellamNoise, cryptoRng } from '../../privacy/noise.js';
import type { Rng } from '../../random.js';
import type { ClientMod } from './types.js';
import { mutableUpdate } from './update.js';

/**
 * DP-FedAvg's client step (McMahan et al., ICLR 2018): when the round's fit config asks for
 * privacy, the update is clipped to L2 norm `clipNorm` and counts once (weight 1), whatever the
 * client's number of examples, so that one client moves the sum by at most C.
 */
export function clippingMod(): ClientMod {
  return async (task, next) => {
    const reply = await next(task);
    const privacy = task.config.privacy;
    if (privacy === undefined) return reply;
    clipToNorm(mutableUpdate(reply), privacy.clipNorm);
    reply.weight = 1;
    return reply;
  };
}

/**
 * Distributed DP's client step: adds this client's share of Skellam noise, in whole steps of the
 * secure-aggregation ring's grid, to the clipped update before it is masked (Agarwal, Kairouz and
 * Liu, NeurIPS 2021). Secure aggregation's quantiser maps x + z·quantum to q(x) + z exactly, so
 * the ring sum carries the integer noise of every survivor and no party sees an un-noised sum.
 * `rng` is a CSPRNG by default; tests inject a seeded one.
 */
export function distributedNoiseMod(rng: Rng = cryptoRng()): ClientMod {
  return async (task, next) => {
    const reply = await next(task);
    const noise = task.config.privacy?.noise;
    if (noise === undefined) return reply;
    const update = mutableUpdate(reply);
    const share = noiseShare(noise, task.config.privacy?.clipNorm ?? 0, update.length);
    addSkellamNoise(update, share.mu, share.quantum, rng);
    return reply;
  };
}
