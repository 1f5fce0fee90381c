import * as tfl from '@tensorflow/tfjs-layers';

/** The sensor columns the model reads, in order, and the classes it predicts. */
export const FEATURES = ['temperature', 'vibration', 'pressure', 'humidity'] as const;
export const CLASSES = ['ok', 'wear', 'fault'] as const;

/**
 * Your model, defined in tfjs. Preprocessing lives inside it (the Rescaling layer), so serving
 * takes raw readings and cannot skew from training. Every client builds the same layers, by name:
 * the coordinator checks each update's tensor names and shapes against them.
 */
export function buildModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.rescaling({ name: 'scale', inputShape: [FEATURES.length], scale: 0.01 }),
      tfl.layers.dense({ name: 'hidden', units: 16, activation: 'relu' }),
      tfl.layers.dense({ name: 'output', units: CLASSES.length, activation: 'softmax' }),
    ],
  });
}
