import type { Accumulator } from './accumulator.js';

/** The portable kernel: a plain loop over a Float64Array, for runtimes without wasm SIMD. */
export function createJsAccumulator(length: number): Accumulator {
  const acc = new Float64Array(length);
  return {
    fold(update, weight) {
      for (let i = 0; i < length; i++) acc[i] = (acc[i] as number) + weight * (update[i] as number);
    },
    divide(total) {
      const out = new Float32Array(length);
      for (let i = 0; i < length; i++) out[i] = (acc[i] as number) / total;
      return out;
    },
    copy: () => acc.slice(),
    clear: () => acc.fill(0),
  };
}
