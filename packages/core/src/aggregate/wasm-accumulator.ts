import type { Accumulator } from './accumulator.js';
import { KERNEL_WASM } from './kernel.generated.js';

/** Floats copied into wasm memory per kernel call: 128 KiB, small enough to stay in L2 between copy and fold. */
export const STAGING_FLOATS = 32768;

const PAGE_BYTES = 65536;
// The kernel compares i32 byte offsets unsigned; staying under 2 GiB keeps every end pointer far from wrapping.
const MAX_MEMORY_BYTES = 2 ** 31;

/** The largest length the wasm kernel accepts; longer vectors use the JS kernel. */
export const MAX_WASM_LENGTH = Math.floor((MAX_MEMORY_BYTES - STAGING_FLOATS * 4) / 8);

interface KernelExports {
  fold(acc: number, src: number, n: number, weight: number): void;
  mean(dst: number, acc: number, n: number, total: number): void;
}

// undefined: not tried yet; null: this runtime cannot run it (no wasm, no SIMD, or compile refused by CSP).
let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled kernel, or null when this runtime cannot run it. Compiled synchronously, once: the
 * module is far below the 4 KB browsers allow on the main thread.
 */
export function wasmKernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(KERNEL_WASM)) return null;
  try {
    compiled = new WebAssembly.Module(KERNEL_WASM);
  } catch {
    // A Content-Security-Policy without 'wasm-unsafe-eval' refuses compilation; the JS kernel still works.
  }
  return compiled;
}

/**
 * A float64 accumulator in its own wasm memory, laid out as [staging chunk | accumulator]. Updates
 * are copied in chunk by chunk, so the staging area stays small whatever the model size.
 */
export function createWasmAccumulator(module: WebAssembly.Module, length: number): Accumulator {
  const stagingFloats = Math.min(STAGING_FLOATS, Math.ceil(length / 4) * 4);
  const accOffset = stagingFloats * 4; // a multiple of 16, as the kernel's v128 stores need
  const pages = Math.ceil((accOffset + length * 8) / PAGE_BYTES);
  // maximum = initial: the memory never grows, so these views never detach.
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  const staging = new Float32Array(memory.buffer, 0, stagingFloats);
  const acc = new Float64Array(memory.buffer, accOffset, length);

  return {
    fold(update, weight) {
      for (let start = 0; start < length; start += stagingFloats) {
        const n = Math.min(stagingFloats, length - start);
        staging.set(n === length ? update : update.subarray(start, start + n));
        kernel.fold(accOffset + start * 8, 0, n, weight);
      }
    },
    divide(total) {
      const out = new Float32Array(length);
      for (let start = 0; start < length; start += stagingFloats) {
        const n = Math.min(stagingFloats, length - start);
        kernel.mean(0, accOffset + start * 8, n, total);
        out.set(n === stagingFloats ? staging : staging.subarray(0, n), start);
      }
      return out;
    },
    copy: () => acc.slice(),
    clear: () => acc.fill(0),
  };
}
