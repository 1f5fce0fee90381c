import type { ModelParams } from '../params/tensors.js';
import type { Trainer } from './types.js';

/** What a stand-in update adds at parameter `j`: small integers, so every weighted mean is exact in float32. */
export const standInPattern = (j: number): number => j % 8;

/**
 * A trainer that does no real training, for tests and benchmarks of the coordinator: the model is
 * one tensor of `size` zeros, and its update is the global model plus `standInPattern(j) + delta`
 * at every parameter `j`, computed in place, so the aggregate of a round is known exactly.
 */
export function standInTrainer(size: number, delta: number, numExamples: number): Trainer {
  const specs = [{ name: 'w', shape: [size] }];
  return {
    numExamples,
    numEvalExamples: 0,
    backend: 'stand-in',
    specs: () => specs,
    getParameters: async () => ({
      params: [{ name: 'w', shape: [size], values: new Float32Array(size) }],
      modelTopology: { class_name: 'Sequential', config: {} },
    }),
    fit: async (global: ModelParams) => {
      const values = global[0]!.values as Float32Array;
      for (let j = 0; j < values.length; j++) values[j] = values[j]! + standInPattern(j) + delta;
      return { params: [{ name: 'w', shape: [size], values }], numExamples, metrics: { loss: delta } };
    },
    evaluate: async () => ({ numExamples: 0, loss: 0, metrics: {} }),
  };
}
