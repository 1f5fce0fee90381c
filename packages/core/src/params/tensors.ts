import { FedlearnError } from '../errors.js';

/** One named float32 tensor of a model, e.g. `dense_1/kernel` with shape [784, 128]. */
export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Name and shape of one weight, in the model's weight order. */
export interface TensorSpec {
  name: string;
  shape: number[];
}

/** A model's parameters: its tensors in the model's weight order. */
export type ModelParams = NamedTensor[];

export function sizeOfShape(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new FedlearnError(
        'PARAMS_SHAPE_MISMATCH',
        `invalid dimension ${dim} in shape [${shape.join(', ')}]`,
      );
    }
    size *= dim;
  }
  return size;
}

/** Total number of scalars described by `specs`. */
export function parameterCount(specs: readonly TensorSpec[]): number {
  let total = 0;
  for (const spec of specs) total += sizeOfShape(spec.shape);
  return total;
}

export function specsOf(params: ModelParams): TensorSpec[] {
  return params.map(({ name, shape }) => ({ name, shape: [...shape] }));
}

/** Concatenates the tensors in order into one vector. */
export function flattenParams(params: ModelParams): Float32Array {
  const out = new Float32Array(parameterCount(params));
  let offset = 0;
  for (const tensor of params) {
    const size = sizeOfShape(tensor.shape);
    if (tensor.values.length !== size) {
      throw new FedlearnError(
        'PARAMS_SHAPE_MISMATCH',
        `tensor ${tensor.name} has ${tensor.values.length} values but shape [${tensor.shape.join(', ')}] needs ${size}`,
        { details: { name: tensor.name } },
      );
    }
    out.set(tensor.values, offset);
    offset += size;
  }
  return out;
}

/** Splits a flat vector back into tensors following `specs`. The result views `flat` without copying. */
export function unflattenParams(flat: Float32Array, specs: readonly TensorSpec[]): ModelParams {
  const expected = parameterCount(specs);
  if (flat.length !== expected) {
    throw new FedlearnError(
      'PARAMS_SHAPE_MISMATCH',
      `expected ${expected} parameters for this model, got ${flat.length}`,
      { details: { expected, actual: flat.length } },
    );
  }
  const out: ModelParams = [];
  let offset = 0;
  for (const spec of specs) {
    const size = sizeOfShape(spec.shape);
    out.push({ name: spec.name, shape: [...spec.shape], values: flat.subarray(offset, offset + size) });
    offset += size;
  }
  return out;
}

/** Throws unless `actual` has exactly the names and shapes of `expected`, in order. */
export function assertSameSpecs(expected: readonly TensorSpec[], actual: readonly TensorSpec[]): void {
  if (expected.length !== actual.length) {
    throw new FedlearnError(
      'PARAMS_SHAPE_MISMATCH',
      `expected ${expected.length} tensors, got ${actual.length}`,
      { details: { expected: expected.length, actual: actual.length } },
    );
  }
  expected.forEach((spec, i) => {
    const other = actual[i]!;
    if (other.name !== spec.name || other.shape.join(',') !== spec.shape.join(',')) {
      throw new FedlearnError(
        'PARAMS_SHAPE_MISMATCH',
        `tensor ${i}: expected ${spec.name} [${spec.shape.join(', ')}], got ${other.name} [${other.shape.join(', ')}]`,
        { details: { index: i } },
      );
    }
  });
}

/** Index of the first NaN or ±Infinity in `values`, or -1. */
export function firstNonFinite(values: Float32Array | Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is NaN exactly when v is NaN or infinite, and is cheaper than Number.isFinite.
    if (v - v !== 0) return i;
  }
  return -1;
}
