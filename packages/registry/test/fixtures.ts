import { float32ToBytes, type LayersModelArtifacts } from '@fedlearn/core';
import type { JobInfo } from '../src/types.js';

/** A tiny dense model's artifacts (4 → 2), with deterministic weights; no tfjs needed. */
export function tinyArtifacts(seed = 1): LayersModelArtifacts {
  const kernel = Float32Array.from({ length: 8 }, (_, i) => ((i + seed) % 5) / 10);
  const bias = Float32Array.from([0.1 * seed, -0.1]);
  const weightData = new Uint8Array(40);
  weightData.set(float32ToBytes(kernel), 0);
  weightData.set(float32ToBytes(bias), 32);
  return {
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'tiny',
        layers: [
          {
            class_name: 'Dense',
            config: {
              name: 'dense',
              units: 2,
              batch_input_shape: [null, 4],
              dtype: 'float32',
              activation: 'softmax',
            },
          },
        ],
      },
    },
    weightSpecs: [
      { name: 'dense/kernel', shape: [4, 2], dtype: 'float32' },
      { name: 'dense/bias', shape: [2], dtype: 'float32' },
    ],
    weightData,
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
  };
}

export function job(overrides: Partial<JobInfo> = {}): JobInfo {
  return {
    jobId: 'job-1',
    modelName: 'tiny',
    strategy: 'fedavg',
    rounds: 3,
    clients: 2,
    secureAggregation: true,
    config: { rounds: 3, strategy: 'fedavg', sampling: { fraction: 1 } },
    codeVersion: 'abc123',
    ...overrides,
  };
}

export const partitions = [
  { clientId: 'c1', sha256: 'a'.repeat(64), examples: 120 },
  { clientId: 'c2', sha256: 'b'.repeat(64), examples: 80 },
];

/** An instant delay that records what it was asked to wait. */
export function recordingDelay(): { delay: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, delay: async (ms) => void waits.push(ms) };
}
