import type { FedlearnError } from '../errors.js';
import { secaggError } from './errors.js';
import { rebuildChecked, type SharePoint } from './shamir.js';

/** A share of `owner`'s secret as handed in by `holder`. */
export interface HeldShare extends SharePoint {
  readonly holder: string;
}

export interface RecoveredSecret {
  readonly secret: Uint8Array;
  /** Holders whose share did not fit the others (the secret was rebuilt without them). */
  readonly faults: readonly FedlearnError[];
}

function tryRebuild(
  shares: readonly HeldShare[],
  threshold: number,
  verify: (secret: Uint8Array) => boolean,
): Uint8Array | undefined {
  if (shares.length < threshold) return undefined;
  const secret = rebuildChecked(shares, threshold);
  return secret instanceof Uint8Array && verify(secret) ? secret : undefined;
}

/**
 * Rebuilds `owner`'s secret from its neighbours' shares. All shares must lie on one polynomial and the
 * result must pass `verify` (a commitment or public key check), so a bad share never yields a wrong
 * sum: a single misfit is named and left out, anything worse aborts.
 */
export function recoverSecret(
  owner: string,
  what: string,
  shares: readonly HeldShare[],
  threshold: number,
  verify: (secret: Uint8Array) => boolean,
): RecoveredSecret {
  if (shares.length < threshold) {
    throw secaggError(
      'SECAGG_BELOW_THRESHOLD',
      `only ${shares.length} shares of ${owner}'s ${what}, ${threshold} needed`,
      owner,
      { shares: shares.length, threshold },
    );
  }
  const secret = tryRebuild(shares, threshold, verify);
  if (secret !== undefined) return { secret, faults: [] };
  for (let skip = 0; skip < shares.length; skip++) {
    const rest = shares.filter((_, i) => i !== skip);
    // With exactly t left, the commitment check alone tells the right secret from a wrong one.
    if (rest.length < threshold) break;
    const rebuilt = tryRebuild(rest, threshold, verify);
    if (rebuilt !== undefined) {
      const bad = shares[skip] as HeldShare;
      const fault = secaggError(
        'SECAGG_BAD_SHARE',
        `${bad.holder} sent a share of ${owner}'s ${what} that does not fit the others`,
        bad.holder,
        { owner },
      );
      return { secret: rebuilt, faults: [fault] };
    }
  }
  throw secaggError(
    'SECAGG_INCONSISTENT_SHARES',
    `the shares of ${owner}'s ${what} do not agree on a valid secret`,
    owner,
    { holders: shares.map((s) => s.holder) },
  );
}
