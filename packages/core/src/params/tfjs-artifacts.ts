import type { TensorSpec } from './tensors.js';

/**
 * A model in TensorFlow.js layers format, as plain data: what `model.json` holds plus the
 * concatenated weight bytes. Structurally compatible with tfjs's `io.ModelArtifacts`, so
 * `tf.io.fromMemory(artifacts)` loads it and `model.save(tf.io.withSaveHandler(...))` produces it.
 */
export interface LayersModelArtifacts {
  /** The Keras-style topology (`model.toJSON(null, false)`). */
  modelTopology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  /** All weights, float32 little-endian, concatenated in `weightSpecs` order. */
  weightData: Uint8Array;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** The `model.json` file of the tfjs layers format, pointing at one weights file. */
export interface LayersModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

export const WEIGHTS_FILE_NAME = 'group1-shard1of1.bin';

export function weightSpecsFrom(specs: readonly TensorSpec[]): WeightSpec[] {
  return specs.map((spec) => ({ name: spec.name, shape: [...spec.shape], dtype: 'float32' }));
}

/** Builds `model.json` for artifacts whose weights live in one file named `weightsPath`. */
export function toModelJson(
  artifacts: LayersModelArtifacts,
  weightsPath = WEIGHTS_FILE_NAME,
): LayersModelJson {
  return {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'fedlearn',
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs }],
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Float32 values as little-endian bytes (a copy, independent of the platform's byte order). */
export function float32ToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** Little-endian bytes back to float32 values (a copy; `bytes` may be unaligned). */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >>> 2);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
