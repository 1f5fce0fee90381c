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

  it('dirichlet skews the labels each client holds: strongly with small alpha, hardly with large', () => {
    /** Mean total-variation distance between a client's label mix and the overall one (uniform here). */
    const labelSkew = (parts: number[][]) => {
      const distances = parts.map((part) => {
        const histogram = labelHistogram(labels, part);
        let distance = 0;
        for (let label = 0; label < 10; label++) {
          distance += Math.abs((histogram[label] ?? 0) / part.length - 0.1);
        }
        return distance / 2;
      });
      return distances.reduce((a, b) => a + b, 0) / distances.length;
    };
    for (const seed of [3, 4, 5]) {
      const skewed = partitionIndices(labels, 5, { kind: 'dirichlet', alpha: 0.1 }, createRng(seed));
      const even = partitionIndices(labels, 5, { kind: 'dirichlet', alpha: 1000 }, createRng(seed));
      const iid = partitionIndices(labels, 5, { kind: 'iid' }, createRng(seed));
      expectExactCover(skewed);
      expectExactCover(even);
      // With alpha 0.1 a client's mix is far from the overall one (0 = same mix, 0.9 = one label).
      expect(labelSkew(skewed), `seed ${seed}`).toBeGreaterThan(0.4);
      expect(labelSkew(even), `seed ${seed}`).toBeLessThan(0.1);
      expect(labelSkew(iid), `seed ${seed}`).toBeLessThan(0.1);
    }
  });

  it('parses scheme strings and refuses bad ones', () => {
    expect(parsePartitionScheme('shards:2')).toEqual({ kind: 'shards', shardsPerClient: 2 });
    expect(parsePartitionScheme('dirichlet:0.5')).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    for (const bad of ['shards:0', 'shards:x', 'dirichlet:-1', 'random']) {
      expect(() => parsePartitionScheme(bad)).toThrow(/unknown partition/);
    }
  });
});
