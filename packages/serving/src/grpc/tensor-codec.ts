import { endianness } from 'node:os';
import { FedlearnError } from '@fedlearn/core';
import type { InferenceRequest, InferenceResult, NamedTensor } from '../inference/contract.js';
import type { InferInputTensor, ModelInferRequest, ModelInferResponse } from './messages.js';

/** Limits on one request, checked before any tensor is allocated. */
export interface TensorLimits {
  maxInputs: number;
  maxElements: number;
}

export const DEFAULT_TENSOR_LIMITS: TensorLimits = { maxInputs: 16, maxElements: 1 << 22 };

const FP32_BYTES = 4;
/** OIP raw tensors are little-endian: on such a host they are copied as bytes, not read value by value. */
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

function invalid(message: string, details: Record<string, unknown>): FedlearnError {
  return new FedlearnError('INVALID_ARGUMENT', message, { details });
}

function elementCount(tensor: InferInputTensor, index: number, limits: TensorLimits): number {
  const shape = tensor.shape ?? [];
  if (shape.length === 0) throw invalid(`input ${index}: shape is missing`, { input: index });
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw invalid(`input ${index}: shape dimensions must be non-negative integers`, { input: index });
    }
    count *= dim;
    if (count > limits.maxElements) {
      throw new FedlearnError(
        'PAYLOAD_TOO_LARGE',
        `input ${index}: more than ${limits.maxElements} elements`,
        {
          details: { input: index, maxElements: limits.maxElements },
        },
      );
    }
  }
  return count;
}

function decodeRaw(bytes: Buffer, count: number, index: number): Float32Array {
  if (bytes.length !== count * FP32_BYTES) {
    throw invalid(`input ${index}: raw_input_contents has ${bytes.length} bytes, shape needs ${count * 4}`, {
      input: index,
      bytes: bytes.length,
      expectedBytes: count * FP32_BYTES,
    });
  }
  if (HOST_IS_LITTLE_ENDIAN) {
    // One memcpy into a fresh, aligned buffer (the message's Buffer may sit at any offset).
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 1) out[i] = view.getFloat32(i * FP32_BYTES, true);
  return out;
}

function decodeTyped(tensor: InferInputTensor, count: number, index: number): Float32Array {
  const values = tensor.contents?.fp32_contents ?? [];
  if (values.length !== count) {
    throw invalid(
      `input ${index}: contents.fp32_contents has ${values.length} values, shape needs ${count}`,
      {
        input: index,
        values: values.length,
        expectedValues: count,
      },
    );
  }
  return Float32Array.from(values);
}

/**
 * Turns a decoded `ModelInferRequest` into the service's request: FP32 only, typed `contents` or
 * little-endian `raw_input_contents` (never both), element counts matching shapes.
 */
export function decodeInferRequest(
  message: ModelInferRequest,
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): { request: InferenceRequest; raw: boolean; requestedOutputs: string[] } {
  const model = message.model_name ?? '';
  if (model === '') throw invalid('model_name is required', { field: 'model_name' });
  const inputs = message.inputs ?? [];
  if (inputs.length === 0) throw invalid('inputs is empty', { field: 'inputs' });
  if (inputs.length > limits.maxInputs) {
    throw invalid(`at most ${limits.maxInputs} inputs`, { field: 'inputs', maxInputs: limits.maxInputs });
  }
  const rawContents = message.raw_input_contents ?? [];
  const raw = rawContents.length > 0;
  if (raw && rawContents.length !== inputs.length) {
    throw invalid(`raw_input_contents has ${rawContents.length} entries for ${inputs.length} inputs`, {
      field: 'raw_input_contents',
    });
  }
  const tensors: NamedTensor[] = inputs.map((tensor, index) => {
    if (!tensor.name) throw invalid(`input ${index}: name is required`, { input: index, field: 'name' });
    if (tensor.datatype !== 'FP32') {
      throw invalid(`input ${index}: datatype must be FP32`, { input: index, field: 'datatype' });
    }
    const count = elementCount(tensor, index, limits);
    if (raw && tensor.contents) {
      throw invalid(`input ${index}: contents and raw_input_contents are exclusive`, { input: index });
    }
    const data = raw ? decodeRaw(rawContents[index]!, count, index) : decodeTyped(tensor, count, index);
    return { name: tensor.name, datatype: 'FP32', shape: [...tensor.shape!], data };
  });
  const request: InferenceRequest = { model, inputs: tensors };
  if (message.model_version) request.version = message.model_version;
  if (message.id) request.id = message.id;
  const requestedOutputs = (message.outputs ?? []).map((o, index) => {
    if (!o.name) throw invalid(`outputs[${index}]: name is required`, { field: 'outputs' });
    return o.name;
  });
  return { request, raw, requestedOutputs };
}

function encodeRaw(data: Float32Array): Buffer {
  if (HOST_IS_LITTLE_ENDIAN) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const bytes = Buffer.alloc(data.length * FP32_BYTES);
  for (let i = 0; i < data.length; i += 1) bytes.writeFloatLE(data[i]!, i * FP32_BYTES);
  return bytes;
}

/** The response for a result: raw bytes when the request was raw (as Triton does), typed contents otherwise. */
export function encodeInferResponse(
  result: InferenceResult,
  raw: boolean,
  requestedOutputs: string[] = [],
): ModelInferResponse {
  let outputs = result.outputs;
  if (requestedOutputs.length > 0) {
    const unknown = requestedOutputs.filter((name) => !outputs.some((o) => o.name === name));
    if (unknown.length > 0) {
      throw invalid('outputs names an output the model does not have', { field: 'outputs' });
    }
    outputs = outputs.filter((o) => requestedOutputs.includes(o.name));
  }
  return {
    model_name: result.model,
    model_version: result.version,
    id: result.id ?? '',
    outputs: outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      ...(raw ? {} : { contents: { fp32_contents: Array.from(o.data) } }),
    })),
    raw_output_contents: raw ? outputs.map((o) => encodeRaw(o.data)) : [],
  };
}
