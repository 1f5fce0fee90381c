import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ExplanationMethod } from './contract.js';

export const DEFAULT_IG_STEPS = 32;
export const MAX_IG_STEPS = 256;

/**
 * Attributes one prediction to the input features. `integrated-gradients` (Sundararajan et al.,
 * ICML 2017) averages the gradient of the target output along the straight path from an all-zero
 * baseline to the input (a Riemann sum over `steps` points, run as one batch) and multiplies by the
 * input, so attributions sum to about f(x) - f(0). `gradient-x-input` is the one-point version.
 */
export function attribute(
  model: LayersModel,
  instance: Float32Array,
  options: { method: ExplanationMethod; target?: number; steps?: number },
): { target: number; probabilities: number[]; attributions: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor2d(instance, [1, instance.length]);
    const probabilities = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const target = options.target ?? probabilities.indexOf(Math.max(...probabilities));
    const steps = options.method === 'gradient-x-input' ? 1 : (options.steps ?? DEFAULT_IG_STEPS);
    // Right-Riemann points alpha = 1/steps ... 1 (the last one is the input itself).
    const alphas = tf.reshape(tf.div(tf.range(1, steps + 1), steps), [steps, 1]);
    const path = tf.mul(alphas, x);
    const targetOutput = (z: tf.Tensor) =>
      tf.sum(tf.slice(model.apply(z, { training: false }) as tf.Tensor, [0, target], [-1, 1]));
    const gradients = tf.grad(targetOutput)(path);
    const attributions = tf.mul(tf.mean(gradients, 0), tf.squeeze(x, [0])).dataSync() as Float32Array;
    return { target, probabilities, attributions };
  });
}
