import { sortWithNetwork } from './selection-network.js';
import { wasmKernelModule } from './wasm-accumulator.js';

const PAGE_BYTES = 65536;
/** The kernels compare i32 byte offsets unsigned: staying under 2 GiB keeps end pointers from wrapping. */
export const MAX_ROBUST_BYTES = 2 ** 31 - PAGE_BYTES;

/**
 * The robust strategies' kernels over one memory of float32 rows. Pointers are byte offsets into
 * `buffer`; the wasm SIMD kernel and the JS fallback compute `sortedMean` bit for bit alike.
 */
export interface RobustKernel {
  readonly kind: 'wasm-simd' | 'js';
  /** The current memory; a new object after `ensure` grows it (views taken before are stale). */
  readonly buffer: ArrayBuffer;
  /** Grows the memory to at least `bytes`, keeping its contents. */
  ensure(bytes: number): void;
  /**
   * Per coordinate of `groups` groups of 4, over rows i < n at rows + i·stride: sorts the n values
   * with the comparator network at `pairs` (npairs pairs of byte offsets into scratch) and writes
   * the float32 mean of ranks [lo, hi) to dst.
   */
  sortedMean(
    rows: number,
    n: number,
    stride: number,
    groups: number,
    pairs: number,
    npairs: number,
    lo: number,
    hi: number,
    scratch: number,
    dst: number,
  ): void;
  /** Σ (a − b)² over n floats (a multiple of 8) at byte offsets a and b. */
  sqdist(a: number, b: number, n: number): number;
  /** The 2×4 tile of `sqdist`: rows a0, a1 against b0..b3, eight float64 written at out (a0b0..a0b3, a1b0..a1b3). */
  sqdist2x4(
    a0: number,
    a1: number,
    b0: number,
    b1: number,
    b2: number,
    b3: number,
    n: number,
    out: number,
  ): void;
}

interface RobustExports {
  sorted_mean: RobustKernel['sortedMean'];
  sqdist: RobustKernel['sqdist'];
  sqdist_2x4: RobustKernel['sqdist2x4'];
}

/** The wasm SIMD kernels, or undefined where the runtime cannot run them. */
export function createWasmRobustKernel(): RobustKernel | undefined {
  const module = wasmKernelModule();
  if (module === null) return undefined;
  const memory = new WebAssembly.Memory({
    initial: 1,
    maximum: Math.floor(MAX_ROBUST_BYTES / PAGE_BYTES) + 1,
  });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as RobustExports;
  return {
    kind: 'wasm-simd',
    get buffer() {
      return memory.buffer;
    },
    ensure(bytes) {
      const missing = Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES);
      if (missing > 0) memory.grow(missing);
    },
    sortedMean: exports.sorted_mean,
    sqdist: exports.sqdist,
    sqdist2x4: exports.sqdist_2x4,
  };
}

/** The portable kernels: plain loops over the same layout, for runtimes without wasm SIMD. */
export function createJsRobustKernel(): RobustKernel {
  let buffer = new ArrayBuffer(PAGE_BYTES);
  let f32 = new Float32Array(buffer);
  let i32 = new Int32Array(buffer);
  return {
    kind: 'js',
    get buffer() {
      return buffer;
    },
    ensure(bytes) {
      if (bytes <= buffer.byteLength) return;
      const grown = new ArrayBuffer(
        Math.ceil(Math.max(bytes, buffer.byteLength * 1.5) / PAGE_BYTES) * PAGE_BYTES,
      );
      new Uint8Array(grown).set(new Uint8Array(buffer));
      buffer = grown;
      f32 = new Float32Array(buffer);
      i32 = new Int32Array(buffer);
    },
    sortedMean(rows, n, stride, groups, pairs, npairs, lo, hi, _scratch, dst) {
      const column = new Float32Array(n);
      const network = i32.subarray(pairs / 4, pairs / 4 + npairs * 2);
      for (let g = 0; g < groups; g++) {
        for (let lane = 0; lane < 4; lane++) {
          const base = rows / 4 + g * 4 + lane;
          for (let i = 0; i < n; i++) column[i] = f32[base + (i * stride) / 4] as number;
          sortWithNetwork(column, network, 16);
          let sum = 0;
          for (let r = lo; r < hi; r++) sum += column[r] as number;
          f32[dst / 4 + g * 4 + lane] = sum / (hi - lo);
        }
      }
    },
    sqdist,
    sqdist2x4(a0, a1, b0, b1, b2, b3, n, out) {
      const results = new Float64Array(buffer, out, 8);
      [a0, a1].forEach((a, r) => {
        [b0, b1, b2, b3].forEach((b, c) => {
          results[r * 4 + c] = sqdist(a, b, n);
        });
      });
    },
  };

  function sqdist(a: number, b: number, n: number): number {
    let sum = 0;
    for (let i = 0, x = a / 4, y = b / 4; i < n; i++, x++, y++) {
      const d = (f32[x] as number) - (f32[y] as number);
      sum += d * d;
    }
    return sum;
  }
}
