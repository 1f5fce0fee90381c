/**
 * The slice of the TensorFlow.js API the shared trainer uses, as structural types. Core does not
 * depend on tfjs: the Node and browser clients inject their own `tf` (tfjs-core + tfjs-layers), so
 * one trainer serves both and the browser bundle keeps tfjs as a peer.
 */
export interface TensorLike {
  readonly shape: number[];
  readonly dtype: string;
  dataSync(): ArrayLike<number> & ArrayBufferView;
  data(): Promise<ArrayLike<number> & ArrayBufferView>;
}

export interface OptimizerLike {
  dispose(): void;
}

export interface LayerWeight {
  readonly originalName: string;
  readonly shape: readonly (number | null)[];
  read(): TensorLike;
}

/** A trainable variable of a layers model (FedProx's proximal term writes to it). */
export interface TrainableWeight {
  read(): TensorLike;
  write(value: TensorLike): void;
}

/** What the trainer needs of a tfjs `LayersModel`. */
export interface LayersModelLike {
  /** The model's input tensors (tfjs SymbolicTensors): what local data is checked against. */
  readonly inputs?: readonly { readonly dtype: string; readonly shape: readonly (number | null)[] }[];
  readonly weights: readonly LayerWeight[];
  readonly trainableWeights: readonly TrainableWeight[];
  readonly metricsNames: string[];
  readonly optimizer: unknown;
  setWeights(weights: never[]): void;
  compile(args: { optimizer: never; loss: string; metrics: string[] }): void;
  fit(
    x: never,
    y: never,
    args: {
      epochs: number;
      batchSize: number;
      shuffle: boolean;
      verbose: 0;
      callbacks?: { onBatchBegin(): Promise<void>; onBatchEnd(): Promise<void> };
    },
  ): Promise<{ history: Record<string, unknown[]> }>;
  evaluate(x: never, y: never, args: { batchSize: number; verbose: 0 }): TensorLike | TensorLike[];
  toJSON(unused: null, returnString: false): unknown;
}

/** What the trainer needs of the tfjs namespace (`import * as tf from '@tensorflow/tfjs-core'`). */
export interface TfApi {
  tensor(values: Float32Array, shape: number[], dtype: 'float32'): TensorLike;
  tensor1d(values: number[], dtype: 'int32'): TensorLike;
  gather(x: never, indices: never): TensorLike;
  dispose(tensors: unknown): void;
  getBackend(): string;
  train: { sgd(learningRate: number): OptimizerLike };
  keep<T extends TensorLike>(tensor: T): T;
  clone(tensor: TensorLike): TensorLike;
  tidy<T>(fn: () => T): T;
  mul(a: TensorLike, b: number): TensorLike;
  sub(a: TensorLike, b: TensorLike): TensorLike;
}

/** Inputs and targets, first axis = examples (targets one-hot for classification). */
export interface LabelledTensors<T extends TensorLike = TensorLike> {
  x: T;
  y: T;
}
