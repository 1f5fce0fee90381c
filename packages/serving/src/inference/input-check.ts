import { FedlearnError } from '@fedlearn/core';
import type { NamedTensor, TensorSpec } from './contract.js';

/** Instances one request may carry at most (a bigger batch is split by the caller). */
export const MAX_ROWS_PER_REQUEST = 4096;

function mismatch(field: string, reason: string): FedlearnError {
  return new FedlearnError('INPUT_SIGNATURE_MISMATCH', `${field}: ${reason}`, { details: { field, reason } });
}

/**
 * Checks request tensors against the model's signature (names, datatype, shape, finite values)
 * and returns the one input's rows. The message names the field and why, never the values.
 */
export function checkInputs(
  specs: readonly TensorSpec[],
  tensors: readonly NamedTensor[],
): { data: Float32Array; rows: number } {
  const spec = specs[0]!;
  if (tensors.length !== specs.length) {
    throw mismatch(
      'inputs',
      `the model takes ${specs.length} input tensor(s) (${spec.name}), got ${tensors.length}`,
    );
  }
  const index = tensors.findIndex((t) => t.name === spec.name);
  if (index < 0) {
    throw mismatch('inputs[0].name', `the model's input is named ${JSON.stringify(spec.name)}`);
  }
  const tensor = tensors[index]!;
  const field = `inputs[${index}]`;
  if (tensor.datatype !== spec.datatype) {
    throw mismatch(`${field}.datatype`, `the model takes ${spec.datatype}, got ${tensor.datatype}`);
  }
  const shape = tensor.shape;
  if (shape.length !== spec.shape.length) {
    throw mismatch(
      `${field}.shape`,
      `expected ${spec.shape.length} dimensions ${JSON.stringify(spec.shape)}, got ${shape.length}`,
    );
  }
  for (let d = 0; d < shape.length; d++) {
    const want = spec.shape[d]!;
    const got = shape[d]!;
    if (!Number.isInteger(got) || got < 1 || (want !== -1 && got !== want)) {
      throw mismatch(
        `${field}.shape[${d}]`,
        `expected ${want === -1 ? 'a positive size' : want}, got ${got}`,
      );
    }
  }
  const rows = shape[0]!;
  if (rows > MAX_ROWS_PER_REQUEST) {
    throw mismatch(`${field}.shape[0]`, `at most ${MAX_ROWS_PER_REQUEST} instances per request`);
  }
  const expected = shape.reduce((n, d) => n * d, 1);
  if (tensor.data.length !== expected) {
    throw mismatch(
      `${field}.data`,
      `shape ${JSON.stringify(shape)} needs ${expected} values, got ${tensor.data.length}`,
    );
  }
  for (let i = 0; i < tensor.data.length; i++) {
    if (!Number.isFinite(tensor.data[i]!)) throw mismatch(`${field}.data[${i}]`, 'not a finite number');
  }
  return { data: tensor.data, rows };
}
