import {
  type DataFingerprint,
  type EvaluateOutcome,
  evaluateLayersModel,
  fingerprintTensors,
  type LayersModelLike,
  LayersTrainer,
  type LayersTrainerOptions,
  type ModelParams,
  readLayerWeights,
  type TfApi,
} from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

export interface LabelledData {
  /** Inputs, first axis = examples. */
  x: tf.Tensor;
  /** Targets (one-hot for classification), first axis = examples. */
  y: tf.Tensor;
}

export interface TfjsTrainerOptions
  extends Omit<LayersTrainerOptions, 'tf' | 'model' | 'train' | 'evaluation'> {
  model: LayersModel;
  train: LabelledData;
  /** Held-out local data for federated evaluation. */
  evaluation?: LabelledData;
  /** The local optimizer, rebuilt each round with the round's learning rate. */
  optimizer?: (learningRate: number) => tf.Optimizer;
}

/** This package's tfjs, in the shape core's shared trainer takes. */
export const nodeTf = tf as unknown as TfApi;

/**
 * Trains a tfjs layers model on local tensors: core's `LayersTrainer` (shared with the browser
 * client) bound to this process's tfjs.
 */
export class TfjsTrainer extends LayersTrainer {
  constructor(options: TfjsTrainerOptions) {
    super({ ...options, tf: nodeTf, model: options.model as unknown as LayersModelLike });
  }
}

/** Loss and accuracy of a compiled model on `data`. */
export function evaluateModel(
  model: LayersModel,
  data: LabelledData,
  batchSize = 256,
): Promise<EvaluateOutcome> {
  return evaluateLayersModel(nodeTf, model as unknown as LayersModelLike, data, batchSize);
}

export function readWeights(model: LayersModel): Promise<ModelParams> {
  return readLayerWeights(model as unknown as LayersModelLike);
}

/** sha256 over the shapes and bytes of x and y: identifies a partition without revealing it. */
export function fingerprint(data: LabelledData): DataFingerprint {
  return fingerprintTensors(data);
}
