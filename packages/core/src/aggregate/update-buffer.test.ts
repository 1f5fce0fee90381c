import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { createRng } from '../random.js';
import { comparatorNetwork, sortWithNetwork } from './selection-network.js';
import { UpdateBuffer } from './update-buffer.js';
import { isWasmSimdSupported } from './weighted-sum.js';

function filled(kernel: 'js' | 'auto', rows: Float32Array[]): UpdateBuffer {
  const buffer = new UpdateBuffer(rows[0]!.length, kernel);
  for (const row of rows) buffer.add(row);
  return buffer;
}

describe('comparatorNetwork', () => {
  it('sorts every 0/1 input for n ≤ 13, so it sorts every input (the 0–1 principle)', () => {
    let unsorted = 0;
    const column = new Float32Array(13);
    for (let n = 1; n <= 13; n++) {
      const network = comparatorNetwork(n);
      for (let bits = 0; bits < 2 ** n; bits++) {
        for (let i = 0; i < n; i++) column[i] = (bits >> i) & 1;
        sortWithNetwork(column, network);
        for (let i = 1; i < n; i++) if (column[i - 1]! > column[i]!) unsorted++;
      }
    }
    expect(unsorted).toBe(0);
    // Batcher's network for 8 has 19 comparators; pruning keeps fewer for 7.
    expect(comparatorNetwork(8).length / 2).toBe(19);
    expect(comparatorNetwork(7).length / 2).toBeLessThan(19);
  });
});

describe('UpdateBuffer', () => {
  it('the wasm SIMD kernel runs here (else the comparisons below would test JS against itself)', () => {
    expect(isWasmSimdSupported()).toBe(true);
    expect(new UpdateBuffer(3).kernel).toBe('wasm-simd');
  });

  it('rank means equal a float64 sort reference, and wasm and JS agree bit for bit', () => {
    let mismatches = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const rng = createRng(seed);
      const n = 1 + rng.int(40);
      const d = 1 + rng.int(3000);
      const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal() * 5));
      const lo = rng.int(n);
      const hi = lo + 1 + rng.int(n - lo);
      const wasm = filled('auto', rows).coordinateRankMean(0, n, { lo, hi });
      const js = filled('js', rows).coordinateRankMean(0, n, { lo, hi });
      expect(Buffer.from(wasm.buffer).equals(Buffer.from(js.buffer)), `seed ${seed}`).toBe(true);
      for (let j = 0; j < d; j += 3) {
        const column = Float64Array.from(rows, (r) => r[j]!).sort();
        const expected = column.subarray(lo, hi).reduce((a, b) => a + b, 0) / (hi - lo);
        if (wasm[j] !== Math.fround(expected)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('squared distances equal a float64 reference to 1e-5 relative error in both kernels', () => {
    const rng = createRng(7);
    for (const [n, d] of [
      [6, 1],
      [6, 2049],
      [11, 9],
      [11, 5000],
    ] as const) {
      const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal()));
      for (const kernel of ['auto', 'js'] as const) {
        const distances = filled(kernel, rows).squaredDistances();
        let worst = 0;
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < n; k++) {
            let reference = 0;
            for (let j = 0; j < d; j++) reference += (rows[i]![j]! - rows[k]![j]!) ** 2;
            const error = Math.abs(distances[i * n + k]! - reference);
            worst = Math.max(worst, i === k ? error : error / reference);
          }
        }
        expect(worst, `n=${n} d=${d} ${kernel}`).toBeLessThan(1e-5);
      }
    }
  });

  it('grows as rows arrive, keeps earlier rows, and refuses a wrong length', () => {
    const buffer = new UpdateBuffer(5);
    for (let i = 0; i < 9; i++) buffer.add(Float32Array.of(i, i, i, i, i));
    expect(Array.from(buffer.view(3))).toEqual([3, 3, 3, 3, 3]);
    expect(Array.from(buffer.meanOfRows([0, 8]))).toEqual([4, 4, 4, 4, 4]);
    expect(() => buffer.add(new Float32Array(4))).toThrow(FedlearnError);
    expect(buffer.count).toBe(9);
    expect(() => buffer.coordinateRankMean(0, 10, { lo: 0, hi: 1 })).toThrow(FedlearnError);
  });
});
