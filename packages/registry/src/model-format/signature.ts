import type { ModelSignature, TensorSignature } from '../types.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function layersOf(topology: Json): Json[] {
  const root = isObject(topology['model_config']) ? topology['model_config'] : topology;
  const config = isObject(root['config']) ? root['config'] : undefined;
  const layers = config?.['layers'];
  return Array.isArray(layers) ? layers.filter(isObject) : [];
}

function dtypeOf(value: unknown): TensorSignature['dtype'] {
  return value === 'int32' || value === 'bool' || value === 'string' ? value : 'float32';
}

/**
 * Reads a best-effort signature from a Keras/tfjs topology: the first layer's
 * `batch_input_shape` and dtype, and the last layer's `units` when it is Dense.
 * The coordinator may pass an exact signature instead.
 */
export function signatureFromTopology(topology: Json): ModelSignature {
  const layers = layersOf(topology);
  const first = layers[0];
  const last = layers[layers.length - 1];
  const firstConfig = isObject(first?.['config']) ? first['config'] : {};
  const lastConfig = isObject(last?.['config']) ? last['config'] : {};
  const batchInputShape = firstConfig['batch_input_shape'] ?? firstConfig['batchInputShape'];
  const inputShape = Array.isArray(batchInputShape)
    ? batchInputShape.map((d) => (typeof d === 'number' ? d : -1))
    : [-1];
  const units = lastConfig['units'];
  const inputName = typeof firstConfig['name'] === 'string' ? `${firstConfig['name']}_input` : 'input';
  const outputName = typeof lastConfig['name'] === 'string' ? lastConfig['name'] : 'output';
  return {
    inputs: [{ name: inputName, dtype: dtypeOf(firstConfig['dtype']), shape: inputShape }],
    outputs: [{ name: outputName, dtype: 'float32', shape: typeof units === 'number' ? [-1, units] : [-1] }],
  };
}

/** Describes preprocessing layers found in the topology (they travel with the model). */
export function preprocessingFromTopology(topology: Json): string {
  const names = layersOf(topology)
    .map((l) => String(l['class_name'] ?? ''))
    .filter((c) => /Rescaling|Normalization|Resizing|CenterCrop/.test(c));
  return names.length > 0
    ? `inside the model (${names.join(', ')} layers); serving feeds raw inputs`
    : 'none inside the model; inputs must already be in the training scale';
}
