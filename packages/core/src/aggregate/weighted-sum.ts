import { FedlearnError } from '../errors.js';
import type { Accumulator } from './accumulator.js';
import { createJsAccumulator } from './js-accumulator.js';
import { createWasmAccumulator, MAX_WASM_LENGTH, wasmKernelModule } from './wasm-accumulator.js';

/** Which kernel folds updates: `auto` picks wasm SIMD when the runtime supports it, else JS. */
export type WeightedSumKernel = 'auto' | 'wasm-simd' | 'js';

export interface WeightedSumOptions {
  /** Default `auto`. `wasm-simd` throws `INVALID_ARGUMENT` where wasm SIMD is unavailable. */
  kernel?: WeightedSumKernel;
}

/**
 * A streaming weighted sum of float32 vectors (FedAvg's numerator), kept in float64. Memory is one
 * float64 vector of `length` plus a fixed staging chunk, however many updates are folded.
 */
export interface WeightedSum {
  /** Number of parameters D. */
  readonly length: number;
  /** Updates folded since creation or the last `reset()`. */
  readonly count: number;
  /** Sum of the weights folded. */
  readonly totalWeight: number;
  /** The kernel actually in use. */
  readonly kernel: 'wasm-simd' | 'js';
  /**
   * acc += weight * update, in float64. Validated before anything changes, so a rejected update leaves
   * the sum untouched. NaN and ±Infinity in `update` are not checked here: the wire codec rejects them
   * (`PARAMS_NOT_FINITE`) before an update reaches aggregation.
   *
   * @throws FedlearnError `PARAMS_SHAPE_MISMATCH` if `update.length !== length`; `INVALID_ARGUMENT` if
   * `update` is not a Float32Array or `weight` is not a finite number > 0.
   */
  add(update: Float32Array, weight: number): void;
  /**
   * The weighted mean acc / totalWeight, rounded to float32, as a new array.
   *
   * @throws FedlearnError `AGGREGATION_EMPTY` if nothing has been folded.
   */
  mean(): Float32Array;
  /** A copy of the float64 accumulator. */
  sum(): Float64Array;
  /**
   * Back to zero updates, keeping the memory for the next round. Prefer it to a new WeightedSum per
   * round: fresh memory pays its page faults on the first add(), in the middle of the round.
   */
  reset(): void;
  /** Releases the accumulator (and its wasm memory); any later call but `dispose()` throws `INVALID_ARGUMENT`. */
  dispose(): void;
}

/**
 * Refuses what is not a float32 vector of `length` values, before anything changes.
 *
 * @throws FedlearnError `INVALID_ARGUMENT` if not a Float32Array; `PARAMS_SHAPE_MISMATCH` for a wrong length.
 */
export function assertUpdateShape(update: Float32Array, length: number): void {
  if (!(update instanceof Float32Array)) {
    throw new FedlearnError('INVALID_ARGUMENT', 'update must be a Float32Array');
  }
  if (update.length !== length) {
    throw new FedlearnError(
      'PARAMS_SHAPE_MISMATCH',
      `update has ${update.length} values, expected ${length}`,
      {
        details: { expected: length, actual: update.length },
      },
    );
  }
}

/** True when this runtime can run the wasm SIMD kernel. */
export function isWasmSimdSupported(): boolean {
  return wasmKernelModule() !== null;
}

/**
 * Creates a streaming weighted sum of `length` parameters.
 *
 * @throws FedlearnError `INVALID_ARGUMENT` if `length` is not a positive safe integer, or if
 * `kernel: 'wasm-simd'` is asked for where it is unavailable or `length` exceeds what it can hold.
 *
 * @example
 * const sum = createWeightedSum(model.length);
 * for await (const { update, numExamples } of fitResults) sum.add(update, numExamples);
 * const global = sum.mean();
 * sum.dispose();
 */
export function createWeightedSum(length: number, options: WeightedSumOptions = {}): WeightedSum {
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new FedlearnError('INVALID_ARGUMENT', 'length must be a positive integer', { details: { length } });
  }
  const requested = options.kernel ?? 'auto';
  if (requested !== 'auto' && requested !== 'wasm-simd' && requested !== 'js') {
    throw new FedlearnError('INVALID_ARGUMENT', "kernel must be 'auto', 'wasm-simd' or 'js'", {
      details: { kernel: requested },
    });
  }
  const module = requested === 'js' ? null : wasmKernelModule();
  if (requested === 'wasm-simd') {
    if (module === null) {
      throw new FedlearnError('INVALID_ARGUMENT', 'the wasm-simd kernel is not supported by this runtime', {
        details: { kernel: requested },
      });
    }
    if (length > MAX_WASM_LENGTH) {
      throw new FedlearnError(
        'INVALID_ARGUMENT',
        `the wasm-simd kernel holds at most ${MAX_WASM_LENGTH} values`,
        {
          details: { kernel: requested, length, max: MAX_WASM_LENGTH },
        },
      );
    }
  }
  if (module !== null && length <= MAX_WASM_LENGTH) {
    return new StreamingWeightedSum(length, 'wasm-simd', createWasmAccumulator(module, length));
  }
  return new StreamingWeightedSum(length, 'js', createJsAccumulator(length));
}

class StreamingWeightedSum implements WeightedSum {
  #acc: Accumulator | null;
  #count = 0;
  #totalWeight = 0;

  constructor(
    readonly length: number,
    readonly kernel: 'wasm-simd' | 'js',
    acc: Accumulator,
  ) {
    this.#acc = acc;
  }

  get count(): number {
    return this.#count;
  }

  get totalWeight(): number {
    return this.#totalWeight;
  }

  add(update: Float32Array, weight: number): void {
    const acc = this.#live();
    assertUpdateShape(update, this.length);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw new FedlearnError('INVALID_ARGUMENT', 'weight must be a finite number > 0', {
        details: { weight: String(weight) },
      });
    }
    const totalWeight = this.#totalWeight + weight;
    if (!Number.isFinite(totalWeight)) {
      throw new FedlearnError('INVALID_ARGUMENT', 'the total weight would overflow', {
        details: { weight, totalWeight: this.#totalWeight },
      });
    }
    acc.fold(update, weight);
    this.#count++;
    this.#totalWeight = totalWeight;
  }

  mean(): Float32Array {
    const acc = this.#live();
    if (this.#count === 0) {
      throw new FedlearnError('AGGREGATION_EMPTY', 'no update has been folded yet');
    }
    return acc.divide(this.#totalWeight);
  }

  sum(): Float64Array {
    return this.#live().copy();
  }

  reset(): void {
    this.#live().clear();
    this.#count = 0;
    this.#totalWeight = 0;
  }

  dispose(): void {
    // Dropping the only references lets the wasm memory be collected; wasm memory cannot be freed eagerly.
    this.#acc = null;
  }

  #live(): Accumulator {
    if (this.#acc === null) {
      throw new FedlearnError('INVALID_ARGUMENT', 'this WeightedSum has been disposed');
    }
    return this.#acc;
  }
}
