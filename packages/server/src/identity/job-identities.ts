import { FedlearnError } from '@fedlearn/core';
import type { JobSpecInput } from '../job-spec.js';
import type { ClientEnrollments } from './enrollment.js';

/**
 * A malicious-server job pins each client's Ed25519 identity key. Enrollment is where those keys
 * come from: a job that names none gets the keys of every enrolled, unrevoked client. When the
 * coordinator requires enrollment, keys a job does name must be the enrolled ones, so a job spec
 * cannot pin a key the client never enrolled with.
 */
export function withEnrolledIdentities(
  input: JobSpecInput,
  enrollments: ClientEnrollments,
  enrollmentRequired: boolean,
): JobSpecInput {
  const secagg = (input as { secagg?: unknown } | null)?.secagg;
  if (typeof secagg !== 'object' || secagg === null) return input;
  const { mode, identities } = secagg as { mode?: unknown; identities?: unknown };
  if (mode !== 'malicious') return input;
  const enrolled = enrollments.identityKeysHex();
  if (identities === undefined) {
    if (Object.keys(enrolled).length === 0) return input;
    return { ...input, secagg: { ...secagg, identities: enrolled } } as JobSpecInput;
  }
  if (enrollmentRequired && typeof identities === 'object' && identities !== null) {
    for (const [id, key] of Object.entries(identities)) {
      if (typeof key !== 'string' || enrolled[id] !== key.toLowerCase()) {
        throw new FedlearnError(
          'INVALID_CONFIG',
          'invalid job: secagg.identities must match the enrolled, unrevoked clients (omit it to use them)',
        );
      }
    }
  }
  return input;
}
