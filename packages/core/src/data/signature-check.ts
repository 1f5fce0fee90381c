import { FedlearnError } from '../errors.js';

/**
 * One input tensor of a model as its signature records it (the MLmodel signature, or a tfjs model's
 * input): `-1` or `null` marks a free dimension (the batch).
 */
export interface InputSignature {
  dtype: string;
  shape: readonly (number | null)[];
}

/** The tensor being checked. `values` (row-major) is checked when given: count and finiteness. */
export interface TensorToCheck {
  dtype: string;
  shape: readonly number[];
  values?: ArrayLike<number>;
}

export interface SignatureCheckOptions {
  /** Where the tensor sits in the caller's message, e.g. `inputs[0]` (serving) or `train.x` (training). */
  field: string;
  /** The caller's names for the dtype and values fields (OIP says `datatype` and `data`). */
  dtypeField?: string;
  valuesField?: string;
  /** Rows (first dimension) allowed at most. */
  maxRows?: number;
  /** Rows allowed at least. Default 1; a training partition may hold none. */
  minRows?: number;
}

function mismatch(field: string, reason: string): FedlearnError {
  return new FedlearnError('INPUT_SIGNATURE_MISMATCH', `${field}: ${reason}`, { details: { field, reason } });
}

/**
 * The one check of a tensor against a model's input signature, used by serving on every request and
 * by training on the local data, so the two cannot disagree about what the model takes: the dtype,
 * the rank, every fixed dimension, and (when values are given) their count and that they are finite.
 * Throws INPUT_SIGNATURE_MISMATCH naming the field and why, never the values. Returns the row count.
 *
 * @example
 * const { rows } = checkAgainstSignature({ dtype: 'float32', shape: [-1, 784] }, { dtype: x.dtype, shape: x.shape }, { field: 'train.x' });
 */
export function checkAgainstSignature(
  signature: InputSignature,
  tensor: TensorToCheck,
  options: SignatureCheckOptions,
): { rows: number } {
  const { field } = options;
  if (tensor.dtype !== signature.dtype) {
    throw mismatch(
      `${field}.${options.dtypeField ?? 'dtype'}`,
      `the model takes ${signature.dtype}, got ${tensor.dtype}`,
    );
  }
  const want = signature.shape.map((d) => (d === null ? -1 : d));
  const shape = tensor.shape;
  if (shape.length !== want.length) {
    throw mismatch(
      `${field}.shape`,
      `expected ${want.length} dimensions ${JSON.stringify(want)}, got ${shape.length}`,
    );
  }
  const minRows = options.minRows ?? 1;
  for (let d = 0; d < shape.length; d++) {
    const expected = want[d]!;
    const got = shape[d]!;
    const smallest = d === 0 ? minRows : 1;
    if (!Number.isInteger(got) || got < smallest || (expected !== -1 && got !== expected)) {
      throw mismatch(
        `${field}.shape[${d}]`,
        `expected ${expected === -1 ? (smallest === 0 ? 'a size' : 'a positive size') : expected}, got ${got}`,
      );
    }
  }
  const rows = shape[0]!;
  if (options.maxRows !== undefined && rows > options.maxRows) {
    throw mismatch(`${field}.shape[0]`, `at most ${options.maxRows} instances per request`);
  }
  const values = tensor.values;
  if (values !== undefined) {
    const valuesField = `${field}.${options.valuesField ?? 'values'}`;
    const expected = shape.reduce((n, d) => n * d, 1);
    if (values.length !== expected) {
      throw mismatch(
        valuesField,
        `shape ${JSON.stringify(shape)} needs ${expected} values, got ${values.length}`,
      );
    }
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) throw mismatch(`${valuesField}[${i}]`, 'not a finite number');
    }
  }
  return { rows };
}
