import { describe, expect, it } from 'vitest';
import { createRng } from '../random.js';
import { labelHistogram, parsePartitionScheme, partitionIndices } from './partition.js';

const labels = Array.from({ length: 1000 }, (_, i) => i % 10);

function expectExactCover(parts: number[][]): void {
  const all = parts.flat().sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: labels.length }, (_, i) => i));
}

describe('partitionIndices', () => {
  it('iid gives equal-size parts covering every example once, deterministically', () => {
    const parts = partitionIndices(labels, 10, { kind: 'iid' }, createRng(1));
    expectExactCover(parts);
    expect(parts.map((p) => p.length)).toEqual(Array(10).fill(100));
    expect(partitionIndices(labels, 10, { kind: 'iid' }, createRng(1))).toEqual(parts);
  });

  it('shards:2 gives each client at most two labels', () => {
    const parts = partitionIndices(labels, 10, { kind: 'shards', shardsPerClient: 2 }, createRng(2));
    expectExactCover(parts);
    for (const part of parts) expect(Object.keys(labelHistogram(labels, part)).length).toBeLessThanOrEqual(2);
  });

  it('dirichlet with small alpha is skewed, with large alpha near uniform', () => {
    const skewed = partitionIndices(labels, 5, { kind: 'dirichlet', alpha: 0.1 }, createRng(3));
    const even = partitionIndices(labels, 5, { kind: 'dirichlet', alpha: 1000 }, createRng(3));
    expectExactCover(skewed);
    expectExactCover(even);
    const spread = (parts: number[][]) =>
      Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length));
    expect(spread(even)).toBeLessThan(40);
    expect(spread(skewed)).toBeGreaterThan(spread(even));
  });

  it('parses scheme strings and refuses bad ones', () => {
    expect(parsePartitionScheme('shards:2')).toEqual({ kind: 'shards', shardsPerClient: 2 });
    expect(parsePartitionScheme('dirichlet:0.5')).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    for (const bad of ['shards:0', 'shards:x', 'dirichlet:-1', 'random']) {
      expect(() => parsePartitionScheme(bad)).toThrow(/unknown partition/);
    }
  });
});
