import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

/** The file stored beside a model version's MLmodel, holding its training data's per-feature histograms. */
export const DRIFT_REFERENCE_FILE = 'drift-reference.json';
export const DRIFT_REFERENCE_FORMAT = 'fedlearn-drift-reference';

const MAX_FEATURES = 1 << 16;
const MAX_BINS = 1024;

/**
 * Per-feature histograms of the training data over fixed bins (`drift-reference.json`, format version 1):
 *
 * ```json
 * { "format": "fedlearn-drift-reference", "formatVersion": 1,
 *   "features": 784, "featureNames": ["px0", ...],
 *   "edges": [0, 0.1, ..., 1]  or  [[...], [...], ...] (one edge list per feature),
 *   "counts": [[c0, c1, ...], ...],            (features × bins, bins = edges - 1)
 *   "examples": 48000,
 *   "source": { "jobId": "...", "round": 10, "clients": 8, "secureAggregation": true } }
 * ```
 *
 * Bins are half-open [e_i, e_i+1); values below the first edge count in the first bin, values at or above
 * the last edge in the last bin. Counts are sums over clients, so they can be added under secure
 * aggregation: each client bins its own data with `binIndex` and sends only its count vector.
 */
export interface DriftReference {
  features: number;
  featureNames?: string[];
  /** One edge list per feature (a shared list in the file is expanded on parse). */
  edges: number[][];
  counts: number[][];
  examples: number;
  source?: Record<string, string | number | boolean>;
}

const edgeList = z
  .array(z.number().finite())
  .min(2)
  .max(MAX_BINS + 1)
  .refine((e) => e.every((v, i) => i === 0 || v > e[i - 1]!), 'edges must increase strictly');

const fileSchema = z.object({
  format: z.literal(DRIFT_REFERENCE_FORMAT),
  formatVersion: z.literal(1),
  features: z.number().int().min(1).max(MAX_FEATURES),
  featureNames: z.array(z.string().max(256)).optional(),
  edges: z.union([edgeList, z.array(edgeList)]),
  counts: z.array(z.array(z.number().finite().nonnegative()).max(MAX_BINS)),
  examples: z.number().int().nonnegative(),
  source: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

function invalid(message: string): FedlearnError {
  return new FedlearnError('MODEL_FORMAT_INVALID', `${DRIFT_REFERENCE_FILE}: ${message}`);
}

/** Validates a parsed drift reference (dimensions, sorted edges, non-negative counts). */
export function parseDriftReference(json: unknown): DriftReference {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const file = parsed.data;
  const shared = typeof file.edges[0] === 'number';
  const edges = shared
    ? Array.from({ length: file.features }, () => file.edges as number[])
    : (file.edges as number[][]);
  if (edges.length !== file.features)
    throw invalid(`edges has ${edges.length} lists for ${file.features} features`);
  if (file.counts.length !== file.features)
    throw invalid(`counts has ${file.counts.length} rows for ${file.features} features`);
  for (let f = 0; f < file.features; f += 1) {
    if (file.counts[f]!.length !== edges[f]!.length - 1)
      throw invalid(`counts[${f}] does not match its ${edges[f]!.length - 1} bins`);
  }
  if (file.featureNames && file.featureNames.length !== file.features)
    throw invalid('featureNames does not match features');
  return {
    features: file.features,
    edges,
    counts: file.counts,
    examples: file.examples,
    ...(file.featureNames ? { featureNames: file.featureNames } : {}),
    ...(file.source ? { source: file.source } : {}),
  };
}

/** Reads `drift-reference.json` from a model version's files, if it has one. */
export function readDriftReference(files: ReadonlyMap<string, Uint8Array>): DriftReference | undefined {
  const bytes = files.get(DRIFT_REFERENCE_FILE);
  if (!bytes) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw invalid('not valid JSON');
  }
  return parseDriftReference(json);
}

/** The file's bytes, edges written once when every feature shares them. */
export function serializeDriftReference(reference: DriftReference): Uint8Array {
  const first = JSON.stringify(reference.edges[0]);
  const shared = reference.edges.every((e) => JSON.stringify(e) === first);
  return new TextEncoder().encode(
    `${JSON.stringify({
      format: DRIFT_REFERENCE_FORMAT,
      formatVersion: 1,
      features: reference.features,
      ...(reference.featureNames ? { featureNames: reference.featureNames } : {}),
      edges: shared ? reference.edges[0] : reference.edges,
      counts: reference.counts,
      examples: reference.examples,
      ...(reference.source ? { source: reference.source } : {}),
    })}\n`,
  );
}

/** The bin a value falls in: half-open bins, out-of-range values clamped to the first or last bin. */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  if (value < edges[1]!) return 0;
  if (value >= edges[hi]!) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (value >= edges[mid]!) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Histograms of `rows` examples laid out row-major (`rows × edges.length` features): what one client
 * computes on its own data. Summing these vectors over clients gives the reference's counts.
 */
export function histogramCounts(
  data: Float32Array,
  rows: number,
  edges: readonly (readonly number[])[],
): number[][] {
  const features = edges.length;
  const counts = edges.map((e) => new Array<number>(e.length - 1).fill(0));
  for (let r = 0; r < rows; r += 1) {
    for (let f = 0; f < features; f += 1) counts[f]![binIndex(edges[f]!, data[r * features + f]!)]! += 1;
  }
  return counts;
}

/** Evenly spaced fixed edges over [min, max], e.g. `uniformEdges(0, 1, 10)` for pixels in [0, 1]. */
export function uniformEdges(min: number, max: number, bins: number): number[] {
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
}
