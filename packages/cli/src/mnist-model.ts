import type { LabelledData } from '@fedlearn/client-node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type DigitSet, IMAGE_SIZE, NUM_CLASSES } from './mnist.js';

export const MODEL_NAME = 'mnist-mlp';

/**
 * A 784-128-10 multilayer perceptron with seeded initial weights. Layer names are fixed so that
 * every process builds weights with the same names.
 */
export function buildMnistMlp(seed: number): tfl.LayersModel {
  return tfl.sequential({
    name: MODEL_NAME,
    layers: [
      tfl.layers.dense({
        name: 'hidden',
        inputShape: [IMAGE_SIZE],
        units: 128,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed }),
      }),
      tfl.layers.dense({
        name: 'output',
        units: NUM_CLASSES,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

export function toTensors(set: DigitSet): LabelledData {
  return tf.tidy(() => ({
    x: tf.tensor2d(set.images, [set.count, IMAGE_SIZE]),
    y: tf.cast(tf.oneHot(tf.tensor1d(set.labels, 'int32'), NUM_CLASSES), 'float32'),
  }));
}
