import { FedlearnError } from '../errors.js';
import { type Rng, shuffleInPlace } from '../random.js';
import type { ClientInfo } from './types.js';

export interface SamplingOptions {
  /** Fraction of the available clients to pick, in (0, 1]. */
  fraction: number;
  /** Pick at least this many (when that many are available). */
  minClients: number;
}

/**
 * Picks max(minClients, round(fraction · available)) clients uniformly at random. Clients are
 * sorted by id first, so the same seed picks the same clients whatever order they connected in.
 */
export function sampleClients(
  available: readonly ClientInfo[],
  options: SamplingOptions,
  rng: Rng,
): string[] {
  const ids = available.map((c) => c.clientId).sort();
  const wanted = Math.max(options.minClients, Math.round(options.fraction * ids.length));
  return shuffleInPlace(ids, rng).slice(0, Math.min(wanted, ids.length));
}

export function validateSampling(options: SamplingOptions, label: string): void {
  if (!(options.fraction > 0 && options.fraction <= 1)) {
    throw new FedlearnError('INVALID_CONFIG', `${label} fraction must be in (0, 1], got ${options.fraction}`);
  }
  if (!Number.isInteger(options.minClients) || options.minClients < 1) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `${label} minimum must be a positive integer, got ${options.minClients}`,
    );
  }
}
