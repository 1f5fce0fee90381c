import { FedlearnError } from '../errors.js';
import { type Rng, shuffleInPlace } from '../random.js';

/** How a labelled dataset is split among simulated clients. */
export type PartitionScheme =
  | { kind: 'iid' }
  /** Sort by label, cut into clients·shardsPerClient shards, deal each client that many (McMahan et al. 2017). */
  | { kind: 'shards'; shardsPerClient: number }
  /** Per class, split its examples among clients with proportions drawn from Dirichlet(alpha) (Hsu et al. 2019). */
  | { kind: 'dirichlet'; alpha: number };

/** Parses `iid`, `shards:K` or `dirichlet:ALPHA`. */
export function parsePartitionScheme(text: string): PartitionScheme {
  if (text === 'iid') return { kind: 'iid' };
  const [kind, arg] = text.split(':');
  const value = Number(arg);
  if (kind === 'shards' && Number.isInteger(value) && value >= 1)
    return { kind: 'shards', shardsPerClient: value };
  if (kind === 'dirichlet' && value > 0 && Number.isFinite(value)) return { kind: 'dirichlet', alpha: value };
  throw new FedlearnError(
    'INVALID_CONFIG',
    `unknown partition "${text}": use iid, shards:K (K a positive integer) or dirichlet:ALPHA (ALPHA > 0)`,
  );
}

export function formatPartitionScheme(scheme: PartitionScheme): string {
  if (scheme.kind === 'iid') return 'iid';
  return scheme.kind === 'shards' ? `shards:${scheme.shardsPerClient}` : `dirichlet:${scheme.alpha}`;
}

/**
 * Splits example indices `0..labels.length-1` among `clients`. Deterministic for a given `rng` seed;
 * every example goes to exactly one client.
 */
export function partitionIndices(
  labels: ArrayLike<number>,
  clients: number,
  scheme: PartitionScheme,
  rng: Rng,
): number[][] {
  if (!Number.isInteger(clients) || clients < 1) {
    throw new FedlearnError('INVALID_CONFIG', `number of clients must be a positive integer, got ${clients}`);
  }
  const indices = Array.from({ length: labels.length }, (_, i) => i);
  if (scheme.kind === 'iid') {
    shuffleInPlace(indices, rng);
    return Array.from({ length: clients }, (_, c) => indices.filter((_, i) => i % clients === c));
  }
  if (scheme.kind === 'shards') return shardPartition(labels, indices, clients, scheme.shardsPerClient, rng);
  return dirichletPartition(labels, clients, scheme.alpha, rng);
}

function shardPartition(
  labels: ArrayLike<number>,
  indices: number[],
  clients: number,
  shardsPerClient: number,
  rng: Rng,
): number[][] {
  const shardCount = clients * shardsPerClient;
  if (shardCount > indices.length) {
    throw new FedlearnError('INVALID_CONFIG', `${shardCount} shards need at least as many examples`);
  }
  // Shuffle first so that ties within a label are broken at random, then sort stably by label.
  shuffleInPlace(indices, rng).sort((a, b) => labels[a]! - labels[b]!);
  const shardSize = Math.floor(indices.length / shardCount);
  const order = shuffleInPlace(
    Array.from({ length: shardCount }, (_, s) => s),
    rng,
  );
  return Array.from({ length: clients }, (_, c) => {
    const mine: number[] = [];
    for (let k = 0; k < shardsPerClient; k++) {
      const shard = order[c * shardsPerClient + k]!;
      const end = shard === shardCount - 1 ? indices.length : (shard + 1) * shardSize;
      mine.push(...indices.slice(shard * shardSize, end));
    }
    return mine;
  });
}

function dirichletPartition(labels: ArrayLike<number>, clients: number, alpha: number, rng: Rng): number[][] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]!) ?? [];
    list.push(i);
    byClass.set(labels[i]!, list);
  }
  const out: number[][] = Array.from({ length: clients }, () => []);
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace(byClass.get(label)!, rng);
    const weights = Array.from({ length: clients }, () => sampleGamma(alpha, rng));
    const total = weights.reduce((a, b) => a + b, 0);
    let start = 0;
    let cumulative = 0;
    weights.forEach((w, c) => {
      cumulative += w / total;
      const end = c === clients - 1 ? members.length : Math.round(cumulative * members.length);
      out[c]!.push(...members.slice(start, end));
      start = end;
    });
  }
  return out;
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000), with the shape < 1 boost. */
function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.next();
    return sampleGamma(shape + 1, rng) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Counts of each label among `indices`, for logs and the model card. */
export function labelHistogram(
  labels: ArrayLike<number>,
  indices: readonly number[],
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const i of indices) counts[String(labels[i])] = (counts[String(labels[i])] ?? 0) + 1;
  return counts;
}
