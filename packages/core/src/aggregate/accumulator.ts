/**
 * The storage and arithmetic behind a `WeightedSum`, one per kernel. Callers validate first: an
 * accumulator trusts its inputs, so `fold` never fails part-way and loses nothing.
 */
export interface Accumulator {
  /** acc[i] += weight * update[i], in float64. */
  fold(update: Float32Array, weight: number): void;
  /** A new array with f32(acc[i] / total). */
  divide(total: number): Float32Array;
  /** A copy of the accumulator. */
  copy(): Float64Array;
  clear(): void;
}
