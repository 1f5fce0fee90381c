import { checkAgainstSignature, FedlearnError } from '@fedlearn/core';
import type { NamedTensor, TensorSpec } from './contract.js';

/** Instances one request may carry at most (a bigger batch is split by the caller). */
export const MAX_ROWS_PER_REQUEST = 4096;

function mismatch(field: string, reason: string): FedlearnError {
  return new FedlearnError('INPUT_SIGNATURE_MISMATCH', `${field}: ${reason}`, { details: { field, reason } });
}

/**
 * Checks request tensors against the model's signature (names here; datatype, shape and finite
 * values in core's `checkAgainstSignature`) and returns the one input's rows. The message names the field and why, never the values.
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
  // The same check training runs on its data (core), so training and serving agree on the input.
  const { rows } = checkAgainstSignature(
    { dtype: spec.datatype, shape: spec.shape },
    { dtype: tensor.datatype, shape: tensor.shape, values: tensor.data },
    { field: `inputs[${index}]`, dtypeField: 'datatype', valuesField: 'data', maxRows: MAX_ROWS_PER_REQUEST },
  );
  return { data: tensor.data, rows };
}
