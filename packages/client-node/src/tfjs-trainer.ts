import { createHash } from 'node:crypto';
import {
  createRng,
  type DataFingerprint,
  type EvaluateOutcome,
  FedlearnError,
  type FitConfig,
  type FitOutcome,
  type ModelParams,
  shuffleInPlace,
  type TensorSpec,
  type Trainer,
} from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { proximalTerm } from './proximal-term.js';

export interface LabelledData {
  /** Inputs, first axis = examples. */
  x: tf.Tensor;
  /** Targets (one-hot for classification), first axis = examples. */
  y: tf.Tensor;
}

export interface TfjsTrainerOptions {
  model: LayersModel;
  train: LabelledData;
  /** Held-out local data for federated evaluation. */
  evaluation?: LabelledData;
  loss?: string;
  /** The local optimizer, rebuilt each round with the round's learning rate. */
  optimizer?: (learningRate: number) => tf.Optimizer;
  backend?: string;
}

/**
 * Trains a tfjs layers model on local tensors. Each round starts from the global weights with a
 * fresh optimizer, and shuffles with the round's seed so a round can be replayed exactly.
 */
export class TfjsTrainer implements Trainer {
  readonly numExamples: number;
  readonly numEvalExamples: number;
  readonly backend: string;
  readonly dataFingerprint: DataFingerprint;
  private readonly model: LayersModel;
  private readonly options: TfjsTrainerOptions;

  constructor(options: TfjsTrainerOptions) {
    const { model, train, evaluation } = options;
    if (train.x.shape[0] !== train.y.shape[0]) {
      throw new FedlearnError(
        'INVALID_ARGUMENT',
        `train x has ${train.x.shape[0]} examples but y has ${train.y.shape[0]}`,
      );
    }
    if (evaluation && evaluation.x.shape[0] !== evaluation.y.shape[0]) {
      throw new FedlearnError('INVALID_ARGUMENT', 'evaluation x and y have different numbers of examples');
    }
    this.options = options;
    this.model = model;
    this.numExamples = train.x.shape[0] ?? 0;
    this.numEvalExamples = evaluation?.x.shape[0] ?? 0;
    this.backend = options.backend ?? tf.getBackend();
    this.dataFingerprint = fingerprint(train);
  }

  specs(): TensorSpec[] {
    return this.model.weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] }));
  }

  async getParameters() {
    const modelTopology = this.model.toJSON(null, false) as unknown as Record<string, unknown>;
    return { params: await readWeights(this.model), modelTopology };
  }

  async fit(params: ModelParams, config: FitConfig): Promise<FitOutcome> {
    this.setWeights(params);
    const optimizer = (this.options.optimizer ?? ((lr) => tf.train.sgd(lr)))(config.learningRate);
    this.model.compile({
      optimizer,
      loss: this.options.loss ?? 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const { x, y } = this.options.train;
    const rng = createRng(config.seed);
    const prox = config.proximalMu
      ? proximalTerm(this.model, config.proximalMu, config.learningRate)
      : undefined;
    let history: Record<string, number[]> = {};
    for (let epoch = 0; epoch < config.localEpochs; epoch++) {
      const order = tf.tensor1d(
        shuffleInPlace(
          Array.from({ length: this.numExamples }, (_, i) => i),
          rng,
        ),
        'int32',
      );
      const xs = tf.gather(x, order);
      const ys = tf.gather(y, order);
      try {
        const result = await this.model.fit(xs, ys, {
          epochs: 1,
          batchSize: config.batchSize,
          shuffle: false,
          verbose: 0,
          ...(prox ? { callbacks: prox.callbacks } : {}),
        });
        history = result.history as Record<string, number[]>;
      } finally {
        tf.dispose([order, xs, ys]);
      }
    }
    optimizer.dispose();
    prox?.dispose();
    const metrics = lastValues(history);
    if (!Number.isFinite(metrics.loss)) {
      throw new FedlearnError(
        'TRAINING_FAILED',
        `local training diverged (loss ${metrics.loss}); lower the learning rate`,
      );
    }
    return { params: await readWeights(this.model), numExamples: this.numExamples, metrics };
  }

  async evaluate(params: ModelParams, config: { batchSize: number }): Promise<EvaluateOutcome> {
    const data = this.options.evaluation;
    if (!data || this.numEvalExamples === 0) {
      throw new FedlearnError('INVALID_ARGUMENT', 'this client holds no evaluation data');
    }
    this.setWeights(params);
    if (!this.model.optimizer)
      this.model.compile({
        optimizer: tf.train.sgd(0),
        loss: this.options.loss ?? 'categoricalCrossentropy',
        metrics: ['accuracy'],
      });
    return evaluateModel(this.model, data, config.batchSize);
  }

  private setWeights(params: ModelParams): void {
    const tensors = params.map((p) => tf.tensor(p.values, p.shape, 'float32'));
    try {
      this.model.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}

/** Loss and accuracy of a compiled model on `data`. */
export async function evaluateModel(
  model: LayersModel,
  data: LabelledData,
  batchSize = 256,
): Promise<EvaluateOutcome> {
  const result = model.evaluate(data.x, data.y, { batchSize, verbose: 0 });
  const scalars = Array.isArray(result) ? result : [result];
  const values = await Promise.all(scalars.map((s) => s.data()));
  tf.dispose(scalars);
  const names = model.metricsNames;
  const metrics: Record<string, number> = {};
  names.forEach((name, i) => {
    metrics[name === 'acc' ? 'accuracy' : name] = values[i]![0]!;
  });
  const { loss = Number.NaN, ...rest } = metrics;
  return { numExamples: data.x.shape[0] ?? 0, loss, metrics: rest };
}

export async function readWeights(model: LayersModel): Promise<ModelParams> {
  const weights = model.weights;
  return Promise.all(
    weights.map(async (w) => ({
      name: w.originalName,
      shape: [...w.shape] as number[],
      values: ((await w.read().data()) as Float32Array).slice(),
    })),
  );
}

function lastValues(history: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, values] of Object.entries(history)) {
    const last = values[values.length - 1];
    if (typeof last === 'number') out[key === 'acc' ? 'accuracy' : key] = last;
  }
  return out;
}

/** sha256 over the shapes and bytes of x and y: identifies a partition without revealing it. */
export function fingerprint(data: LabelledData): DataFingerprint {
  const hash = createHash('sha256');
  for (const tensor of [data.x, data.y]) {
    hash.update(`${tensor.dtype}[${tensor.shape.join(',')}]`);
    const values = tensor.dataSync();
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return { sha256: hash.digest('hex'), examples: data.x.shape[0] ?? 0 };
}
