import { z } from 'zod';
import type { SecAggParams } from './config.js';
import { secaggError } from './errors.js';

/**
 * What a client accepts, whatever the coordinator asks: the coordinator decides per task whether
 * a round is secure, so only the client can refuse a plain or weakened one.
 */
export const SecAggPolicySchema = z
  .object({
    /** Refuse any round that would upload the update in the clear. */
    requireSecureAggregation: z.boolean().default(false),
    /** Smallest number of participants n, neighbours k and threshold t accepted. */
    minParticipants: z.number().int().min(3).optional(),
    minNeighbours: z.number().int().min(2).optional(),
    minThreshold: z.number().int().min(2).optional(),
    /** Refuse semi-honest rounds: accept only the malicious-server mode. */
    requireMaliciousMode: z.boolean().default(false),
  })
  .strict();

export type SecAggPolicy = z.input<typeof SecAggPolicySchema>;

function refuse(message: string, details: Record<string, unknown>): never {
  throw secaggError('SECAGG_POLICY_REFUSED', message, undefined, details);
}

/** Throws SECAGG_POLICY_REFUSED when a plain (unmasked) upload is asked of a client that requires secure rounds. */
export function checkPlainRoundAllowed(policy: SecAggPolicy | undefined): void {
  if (policy?.requireSecureAggregation) {
    refuse('this client requires secure aggregation and does not send plain updates', {});
  }
}

/** Throws SECAGG_POLICY_REFUSED when a secure round's n, k, t or mode are weaker than `policy`. */
export function checkSecAggPolicy(
  policy: SecAggPolicy | undefined,
  params: SecAggParams,
  mode: 'semi-honest' | 'malicious',
): void {
  if (policy === undefined) return;
  const p = SecAggPolicySchema.parse(policy);
  const checks: [string, number, number | undefined][] = [
    ['participants', params.participants, p.minParticipants],
    ['neighbours', params.neighbours, p.minNeighbours],
    ['threshold', params.threshold, p.minThreshold],
  ];
  for (const [what, got, min] of checks) {
    if (min !== undefined && got < min) {
      refuse(`the round has ${got} ${what}; this client requires at least ${min}`, { [what]: got, min });
    }
  }
  if (p.requireMaliciousMode && mode !== 'malicious') {
    refuse('this client requires the malicious-server mode', { mode });
  }
}
