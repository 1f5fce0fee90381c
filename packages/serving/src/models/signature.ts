import { FedlearnError } from '@fedlearn/core';
import type { ModelSignature, TensorSignature } from '@fedlearn/registry';
import type { OipDatatype, TensorSpec } from '../inference/contract.js';

const DATATYPES: Record<TensorSignature['dtype'], OipDatatype> = {
  float32: 'FP32',
  int32: 'INT32',
  bool: 'BOOL',
  string: 'BYTES',
};

/** MLmodel tensor signature → OIP tensor spec (`-1` keeps marking a free dimension). */
export function toTensorSpecs(tensors: readonly TensorSignature[]): TensorSpec[] {
  return tensors.map((t) => ({ name: t.name, datatype: DATATYPES[t.dtype], shape: [...t.shape] }));
}

function refuse(message: string, details: Record<string, unknown>): FedlearnError {
  return new FedlearnError('MODEL_VERSION_REFUSED', message, { details });
}

function sameShape(signature: readonly number[], model: readonly (number | null)[]): boolean {
  return (
    signature.length === model.length &&
    signature.every((d, i) => d === -1 || model[i] === null || model[i] === d)
  );
}

/**
 * Checks that a loaded tfjs model is the model its MLmodel signature describes: one FP32 input and
 * one FP32 output of the recorded shapes. Serving checks requests against the signature, so a
 * version whose signature lies about its model must not be served.
 */
export function assertModelMatchesSignature(
  signature: ModelSignature,
  model: { inputs: { shape: (number | null)[] }[]; outputs: { shape: (number | null)[] }[] },
): void {
  const [input] = signature.inputs;
  const [output] = signature.outputs;
  if (signature.inputs.length !== 1 || signature.outputs.length !== 1 || !input || !output) {
    throw refuse('serving takes models with exactly one input and one output tensor', {
      inputs: signature.inputs.length,
      outputs: signature.outputs.length,
    });
  }
  if (input.dtype !== 'float32' || output.dtype !== 'float32') {
    throw refuse('serving takes float32 models', { input: input.dtype, output: output.dtype });
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw refuse('the tfjs model has several inputs or outputs', {});
  }
  const modelIn = model.inputs[0]!.shape;
  const modelOut = model.outputs[0]!.shape;
  if (!sameShape(input.shape, modelIn) || !sameShape(output.shape, modelOut)) {
    throw refuse(
      `the MLmodel signature (input ${JSON.stringify(input.shape)}, output ${JSON.stringify(output.shape)}) does not match the tfjs model (input ${JSON.stringify(modelIn)}, output ${JSON.stringify(modelOut)})`,
      { signatureInput: input.shape, modelInput: modelIn },
    );
  }
  if (input.shape.length < 2 || input.shape.slice(1).some((d) => d < 1)) {
    throw refuse('serving needs a fixed per-instance input shape', { shape: input.shape });
  }
}

/** Number of values in one instance of a spec (all dimensions after the batch one). */
export function instanceSize(spec: TensorSpec): number {
  return spec.shape.slice(1).reduce((n, d) => n * d, 1);
}
