import { FedlearnError } from '../errors.js';
import {
  createJsRobustKernel,
  createWasmRobustKernel,
  MAX_ROBUST_BYTES,
  type RobustKernel,
} from './robust-kernel.js';
import { comparatorNetwork } from './selection-network.js';
import { assertUpdateShape, type WeightedSumKernel } from './weighted-sum.js';

/** Coordinates per sortedMean call: 16 KiB of output, and the scratch column stays in L1. */
const SELECT_FLOATS = 4096;
/** Columns per distance pass: 100 rows × 8 KiB stay in a 1 MiB L2 while every pair reads them. */
const DISTANCE_FLOATS = 2048;

/**
 * Every update of a round in one compact block of float32 rows (in wasm memory when wasm SIMD is
 * there), for the strategies that need them all: per-coordinate order statistics and pairwise
 * distances run over it in place. Rows are padded to a multiple of 8 floats with zeros, which
 * changes neither distances nor coordinates that are read back.
 *
 * @example
 * const buffer = new UpdateBuffer(model.length);
 * for (const update of updates) buffer.add(update);
 * const median = buffer.coordinateRankMean(0, buffer.count, medianRanks(buffer.count));
 */
export class UpdateBuffer {
  readonly kernel: RobustKernel['kind'];
  private readonly impl: RobustKernel;
  private readonly stride: number;
  private rows = 0;
  private capacity = 0;

  constructor(
    readonly length: number,
    kernel: WeightedSumKernel = 'auto',
  ) {
    if (!Number.isSafeInteger(length) || length < 1) {
      throw new FedlearnError('INVALID_ARGUMENT', 'length must be a positive integer', {
        details: { length },
      });
    }
    const wasm = kernel === 'js' ? undefined : createWasmRobustKernel();
    if (kernel === 'wasm-simd' && !wasm) {
      throw new FedlearnError('INVALID_ARGUMENT', 'the wasm-simd kernel is not supported by this runtime');
    }
    this.impl = wasm ?? createJsRobustKernel();
    this.kernel = this.impl.kind;
    this.stride = Math.ceil(length / 8) * 8 * 4;
  }

  get count(): number {
    return this.rows;
  }

  /** Bytes held (rows and work space): what this round costs in memory. */
  get byteLength(): number {
    return this.impl.buffer.byteLength;
  }

  /**
   * Copies `update` in as the next row.
   *
   * @throws FedlearnError `PARAMS_SHAPE_MISMATCH` for a wrong length; `INVALID_ARGUMENT` if the
   * round's updates would pass 2 GiB.
   */
  add(update: Float32Array): number {
    assertUpdateShape(update, this.length);
    if (this.rows === this.capacity) this.grow(Math.max(4, this.capacity * 2));
    new Float32Array(this.impl.buffer, this.rows * this.stride, this.length).set(update);
    return this.rows++;
  }

  /** Forgets the rows, keeping the memory for the next round. */
  reset(): void {
    this.rows = 0;
  }

  /** Row i as a live view: valid until the next `add` (which may move the memory). */
  view(i: number): Float32Array {
    return new Float32Array(this.impl.buffer, this.checkRow(i) * this.stride, this.length);
  }

  /**
   * Per coordinate, over rows [first, first + n): the mean of the values ranked [lo, hi) in sorted
   * order (lo = hi − 1 = ⌊n/2⌋ is the median of odd n; [b, n − b) the b-trimmed mean).
   */
  coordinateRankMean(first: number, n: number, ranks: { lo: number; hi: number }): Float32Array {
    const { lo, hi } = ranks;
    if (n < 1 || first < 0 || first + n > this.rows || !(lo >= 0 && lo < hi && hi <= n)) {
      throw new FedlearnError('INVALID_ARGUMENT', 'rank range outside the rows held', {
        details: { n, lo, hi },
      });
    }
    const network = comparatorNetwork(n);
    const work = this.rows * this.stride;
    const pairs = work + n * 16;
    const dst = pairs + network.length * 4;
    this.impl.ensure(dst + SELECT_FLOATS * 4);
    const memory = this.impl.buffer;
    // Byte offsets into the scratch column, which holds one v128 (4 lanes) per row.
    new Int32Array(memory, pairs, network.length).set(network.map((slot) => slot * 16));
    const out = new Float32Array(this.length);
    const groupsTotal = this.stride / 16;
    for (let g = 0; g < groupsTotal; g += SELECT_FLOATS / 4) {
      const groups = Math.min(SELECT_FLOATS / 4, groupsTotal - g);
      const rows = first * this.stride + g * 16;
      this.impl.sortedMean(rows, n, this.stride, groups, pairs, network.length / 2, lo, hi, work, dst);
      const floats = Math.min(groups * 4, this.length - g * 4);
      out.set(new Float32Array(memory, dst, floats), g * 4);
    }
    return out;
  }

  /**
   * The n×n matrix of squared L2 distances between the rows, row-major, in float64. Walks the
   * columns in blocks that keep every row's block in L2, and the pairs in 2×4 tiles.
   */
  squaredDistances(): Float64Array {
    const n = this.rows;
    const distances = new Float64Array(n * n);
    const out = n * this.stride;
    this.impl.ensure(out + 64);
    const tile = new Float64Array(this.impl.buffer, out, 8);
    const add = (i: number, j: number, d: number) => {
      distances[i * n + j] = (distances[i * n + j] as number) + d;
    };
    const floats = this.stride / 4;
    for (let start = 0; start < floats; start += DISTANCE_FLOATS) {
      const span = Math.min(DISTANCE_FLOATS, floats - start);
      const at = (row: number) => row * this.stride + start * 4;
      for (let i = 0; i + 1 < n; i += 2) {
        add(i, i + 1, this.impl.sqdist(at(i), at(i + 1), span));
        let j = i + 2;
        for (; j + 3 < n; j += 4) {
          this.impl.sqdist2x4(at(i), at(i + 1), at(j), at(j + 1), at(j + 2), at(j + 3), span, out);
          for (let c = 0; c < 4; c++) {
            add(i, j + c, tile[c] as number);
            add(i + 1, j + c, tile[4 + c] as number);
          }
        }
        for (; j < n; j++) {
          add(i, j, this.impl.sqdist(at(i), at(j), span));
          add(i + 1, j, this.impl.sqdist(at(i + 1), at(j), span));
        }
      }
    }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) distances[i * n + j] = distances[j * n + i] as number;
    return distances;
  }

  /** The unweighted mean of the given rows, summed in float64. */
  meanOfRows(indices: readonly number[]): Float32Array {
    if (indices.length === 0) throw new FedlearnError('AGGREGATION_EMPTY', 'no rows to average');
    const sum = new Float64Array(this.length);
    for (const i of indices) {
      const row = this.view(i);
      for (let j = 0; j < this.length; j++) sum[j] = (sum[j] as number) + (row[j] as number);
    }
    return Float32Array.from(sum, (s) => s / indices.length);
  }

  private grow(rows: number): void {
    const bytes = rows * this.stride;
    if (bytes > MAX_ROBUST_BYTES) {
      throw new FedlearnError(
        'INVALID_ARGUMENT',
        'robust aggregation holds at most 2 GiB of updates per round',
        {
          details: { rows, length: this.length },
        },
      );
    }
    this.impl.ensure(bytes);
    this.capacity = rows;
  }

  private checkRow(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) {
      throw new FedlearnError('INVALID_ARGUMENT', `row ${i} is not held`, { details: { rows: this.rows } });
    }
    return i;
  }
}
