import { z } from 'zod';
import { comparatorNetwork, sortWithNetwork, type UpdateBuffer } from '../aggregate/index.js';
import { RobustStrategy } from './robust-strategy.js';
import type { SamplingStrategyOptions } from './sampled-strategy.js';
import { type StrategyDefinition, samplingOptionsSchema } from './strategy-options.js';

export interface ByzantineOptions extends SamplingStrategyOptions {
  /** f: how many clients per round may be Byzantine. Default 1. */
  byzantine?: number;
}

/**
 * Krum scores (Blanchard et al. 2017): for each candidate, the sum of squared distances to its
 * k = |candidates| − f − 2 nearest other candidates (clamped to [1, |candidates| − 1]).
 */
export function krumScores(
  distances: Float64Array,
  n: number,
  candidates: readonly number[],
  f: number,
): number[] {
  const k = Math.max(1, Math.min(candidates.length - 1, candidates.length - f - 2));
  return candidates.map((i) => {
    const near = candidates
      .filter((j) => j !== i)
      .map((j) => distances[i * n + j] as number)
      .sort((a, b) => a - b);
    return near.slice(0, k).reduce((a, b) => a + b, 0);
  });
}

/** The candidates ordered by Krum score, best first; ties go to the smaller client id. */
function byScore(
  distances: Float64Array,
  ids: readonly string[],
  candidates: readonly number[],
  f: number,
): number[] {
  const scores = krumScores(distances, ids.length, candidates, f);
  return candidates
    .map((row, i) => ({ row, score: scores[i] as number }))
    .sort((a, b) => a.score - b.score || ((ids[a.row] as string) < (ids[b.row] as string) ? -1 : 1))
    .map((c) => c.row);
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Krum (Blanchard, El Mhamdi, Guerraoui and Stainer, "Machine Learning with Adversaries: Byzantine
 * Tolerant Gradient Descent", NeurIPS 2017): the new model is the one update whose n − f − 2
 * nearest neighbours are closest, which a minority of f colluding clients cannot move far.
 * Needs n ≥ 2f + 3.
 */
export class Krum extends RobustStrategy {
  readonly name: string = 'krum';
  protected readonly byzantine: number;

  constructor(options: ByzantineOptions = {}, fewest = 2 * (options.byzantine ?? 1) + 3) {
    super(options, fewest);
    this.byzantine = options.byzantine ?? 1;
  }

  protected reduce(buffer: UpdateBuffer, ids: readonly string[]): Float32Array {
    const best = byScore(buffer.squaredDistances(), ids, all(ids.length), this.byzantine)[0] as number;
    return buffer.view(best).slice();
  }

  protected options(): Record<string, unknown> {
    return { byzantine: this.byzantine };
  }
}

export interface MultiKrumOptions extends ByzantineOptions {
  /** m: how many of the best-scored updates to average. Default n − f. */
  selected?: number;
}

/** Multi-Krum (Blanchard et al. 2017): the mean of the m updates with the best Krum scores. */
export class MultiKrum extends Krum {
  override readonly name = 'multikrum';
  private readonly selected: number | undefined;

  constructor(options: MultiKrumOptions = {}) {
    super(options, Math.max(2 * (options.byzantine ?? 1) + 3, options.selected ?? 0));
    this.selected = options.selected;
  }

  protected override reduce(buffer: UpdateBuffer, ids: readonly string[]): Float32Array {
    const m = this.selected ?? ids.length - this.byzantine;
    const ranked = byScore(buffer.squaredDistances(), ids, all(ids.length), this.byzantine);
    return buffer.meanOfRows(ranked.slice(0, m));
  }

  protected override options(): Record<string, unknown> {
    return { byzantine: this.byzantine, ...(this.selected === undefined ? {} : { selected: this.selected }) };
  }
}

/**
 * Bulyan (El Mhamdi, Guerraoui and Rouault, "The Hidden Vulnerability of Distributed Learning in
 * Byzantium", ICML 2018): Krum picks θ = n − 2f updates one at a time (each pick leaves the pool,
 * scores recomputed on what remains); then each coordinate is the mean of the β = θ − 2f selected
 * values closest to their median. Needs n ≥ 4f + 3.
 */
export class Bulyan extends Krum {
  override readonly name = 'bulyan';

  constructor(options: ByzantineOptions = {}) {
    super(options, 4 * (options.byzantine ?? 1) + 3);
  }

  protected override reduce(buffer: UpdateBuffer, ids: readonly string[]): Float32Array {
    const f = this.byzantine;
    const n = ids.length;
    const distances = buffer.squaredDistances();
    const pool = all(n);
    const selected: number[] = [];
    while (selected.length < n - 2 * f) {
      const best = byScore(distances, ids, pool, f)[0] as number;
      selected.push(best);
      pool.splice(pool.indexOf(best), 1);
    }
    return closestToMedianMean(
      selected.map((i) => buffer.view(i)),
      selected.length - 2 * f,
    );
  }
}

/** Per coordinate: the mean of the β values closest to the median of `rows`. */
function closestToMedianMean(rows: Float32Array[], beta: number): Float32Array {
  const theta = rows.length;
  const network = comparatorNetwork(theta);
  const column = new Float64Array(theta);
  const length = (rows[0] as Float32Array).length;
  const out = new Float32Array(length);
  for (let j = 0; j < length; j++) {
    for (let i = 0; i < theta; i++) column[i] = (rows[i] as Float32Array)[j] as number;
    sortWithNetwork(column, network);
    const median =
      theta % 2
        ? (column[(theta - 1) / 2] as number)
        : ((column[theta / 2 - 1] as number) + (column[theta / 2] as number)) / 2;
    // The β nearest values are a window of the sorted column: the one whose farther end is nearest.
    let start = 0;
    let radius = Number.POSITIVE_INFINITY;
    for (let k = 0; k + beta <= theta; k++) {
      const r = Math.max(median - (column[k] as number), (column[k + beta - 1] as number) - median);
      if (r < radius) {
        radius = r;
        start = k;
      }
    }
    let sum = 0;
    for (let k = start; k < start + beta; k++) sum += column[k] as number;
    out[j] = sum / beta;
  }
  return out;
}

const byzantine = z.number().int().min(0).max(100_000).default(1);

export const krumDefinition: StrategyDefinition = {
  name: 'krum',
  summary: 'the update nearest its n − f − 2 neighbours (Blanchard et al. 2017)',
  requiresIndividualUpdates: true,
  options: samplingOptionsSchema.extend({ byzantine }).strict(),
  create: (o: ByzantineOptions) => new Krum(o),
};

export const multiKrumDefinition: StrategyDefinition = {
  name: 'multikrum',
  summary: 'mean of the m best Krum-scored updates (Blanchard et al. 2017)',
  requiresIndividualUpdates: true,
  options: samplingOptionsSchema
    .extend({ byzantine, selected: z.number().int().min(1).max(1_000_000).optional() })
    .strict(),
  create: (o: MultiKrumOptions) => new MultiKrum(o),
};

export const bulyanDefinition: StrategyDefinition = {
  name: 'bulyan',
  summary: 'Krum selection, then per coordinate the mean nearest the median (El Mhamdi et al. 2018)',
  requiresIndividualUpdates: true,
  options: samplingOptionsSchema.extend({ byzantine }).strict(),
  create: (o: ByzantineOptions) => new Bulyan(o),
};
