import { checkAgainstSignature } from '../data/signature-check.js';
import { FedlearnError } from '../errors.js';
import type { ModelParams, TensorSpec } from '../params/tensors.js';
import type { FitConfig } from '../protocol/messages.js';
import { createRng, shuffleInPlace } from '../random.js';
import type { EvaluateOutcome, FitOutcome, Trainer } from '../session/types.js';
import type { DataFingerprint } from '../strategy/types.js';
import { fingerprintTensors } from './fingerprint.js';
import { proximalTerm } from './proximal-term.js';
import type { LabelledTensors, LayersModelLike, OptimizerLike, TfApi } from './tf-api.js';

export interface LayersTrainerOptions {
  /** The tfjs namespace of the runtime (Node or browser): injected so core never imports tfjs. */
  tf: TfApi;
  model: LayersModelLike;
  train: LabelledTensors;
  /** Held-out local data for federated evaluation. */
  evaluation?: LabelledTensors;
  loss?: string;
  /** The local optimizer, rebuilt each round with the round's learning rate. */
  optimizer?: (learningRate: number) => OptimizerLike;
  backend?: string;
  /** Called after every local epoch (progress bars, the browser demo's live loss). */
  onEpoch?: (progress: { epoch: number; epochs: number; loss: number }) => void;
}

/**
 * Trains a tfjs layers model on local tensors, in Node or in a page. Each round starts from the
 * global weights with a fresh optimizer, and shuffles with the round's seed so a round can be
 * replayed exactly.
 */
export class LayersTrainer implements Trainer {
  readonly numExamples: number;
  readonly numEvalExamples: number;
  readonly backend: string;
  readonly dataFingerprint: DataFingerprint;
  protected readonly tf: TfApi;
  protected readonly model: LayersModelLike;
  private readonly options: LayersTrainerOptions;

  constructor(options: LayersTrainerOptions) {
    const { model, train, evaluation, tf } = options;
    if (train.x.shape[0] !== train.y.shape[0]) {
      throw new FedlearnError(
        'INVALID_ARGUMENT',
        `train x has ${train.x.shape[0]} examples but y has ${train.y.shape[0]}`,
      );
    }
    if (evaluation && evaluation.x.shape[0] !== evaluation.y.shape[0]) {
      throw new FedlearnError('INVALID_ARGUMENT', 'evaluation x and y have different numbers of examples');
    }
    // The check serving runs on every request: data a model could not be served on is refused here too.
    const input = model.inputs?.length === 1 ? model.inputs[0] : undefined;
    if (input) {
      checkAgainstSignature(input, train.x, { field: 'train.x', minRows: 0 });
      if (evaluation) checkAgainstSignature(input, evaluation.x, { field: 'evaluation.x', minRows: 0 });
    }
    this.options = options;
    this.tf = tf;
    this.model = model;
    this.numExamples = train.x.shape[0] ?? 0;
    this.numEvalExamples = evaluation?.x.shape[0] ?? 0;
    this.backend = options.backend ?? tf.getBackend();
    this.dataFingerprint = fingerprintTensors(train);
  }

  specs(): TensorSpec[] {
    return this.model.weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] }));
  }

  async getParameters() {
    const modelTopology = this.model.toJSON(null, false) as Record<string, unknown>;
    return { params: await readLayerWeights(this.model), modelTopology };
  }

  async fit(params: ModelParams, config: FitConfig): Promise<FitOutcome> {
    const { tf } = this;
    this.setWeights(params);
    const optimizer = (this.options.optimizer ?? ((lr) => tf.train.sgd(lr)))(config.learningRate);
    this.compile(optimizer);
    const { x, y } = this.options.train;
    const rng = createRng(config.seed);
    const prox = config.proximalMu
      ? proximalTerm(tf, this.model, config.proximalMu, config.learningRate)
      : undefined;
    let history: Record<string, unknown[]> = {};
    for (let epoch = 0; epoch < config.localEpochs; epoch++) {
      const indices = shuffleInPlace(
        Array.from({ length: this.numExamples }, (_, i) => i),
        rng,
      );
      const order = tf.tensor1d(indices, 'int32');
      const xs = tf.gather(x as never, order as never);
      const ys = tf.gather(y as never, order as never);
      try {
        const result = await this.model.fit(xs as never, ys as never, {
          epochs: 1,
          batchSize: config.batchSize,
          shuffle: false,
          verbose: 0,
          ...(prox ? { callbacks: prox.callbacks } : {}),
        });
        history = result.history;
      } finally {
        tf.dispose([order, xs, ys]);
      }
      const loss = lastValues(history).loss ?? Number.NaN;
      this.options.onEpoch?.({ epoch: epoch + 1, epochs: config.localEpochs, loss });
    }
    prox?.dispose();
    optimizer.dispose();
    const metrics = lastValues(history);
    if (!Number.isFinite(metrics.loss)) {
      throw new FedlearnError(
        'TRAINING_FAILED',
        `local training diverged (loss ${metrics.loss}); lower the learning rate`,
      );
    }
    return { params: await readLayerWeights(this.model), numExamples: this.numExamples, metrics };
  }

  async evaluate(params: ModelParams, config: { batchSize: number }): Promise<EvaluateOutcome> {
    const data = this.options.evaluation;
    if (!data || this.numEvalExamples === 0) {
      throw new FedlearnError('INVALID_ARGUMENT', 'this client holds no evaluation data');
    }
    this.setWeights(params);
    if (!this.model.optimizer) this.compile(this.tf.train.sgd(0));
    return evaluateLayersModel(this.tf, this.model, data, config.batchSize);
  }

  private compile(optimizer: OptimizerLike): void {
    this.model.compile({
      optimizer: optimizer as never,
      loss: this.options.loss ?? 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
  }

  private setWeights(params: ModelParams): void {
    const tensors = params.map((p) => this.tf.tensor(p.values, p.shape, 'float32'));
    try {
      this.model.setWeights(tensors as never[]);
    } finally {
      this.tf.dispose(tensors);
    }
  }
}

/** Loss and accuracy of a compiled model on `data`. */
export async function evaluateLayersModel(
  tf: TfApi,
  model: LayersModelLike,
  data: LabelledTensors,
  batchSize = 256,
): Promise<EvaluateOutcome> {
  const result = model.evaluate(data.x as never, data.y as never, { batchSize, verbose: 0 });
  const scalars = Array.isArray(result) ? result : [result];
  const values = await Promise.all(scalars.map((s) => s.data()));
  tf.dispose(scalars);
  const metrics: Record<string, number> = {};
  model.metricsNames.forEach((name, i) => {
    metrics[name === 'acc' ? 'accuracy' : name] = values[i]![0]!;
  });
  const { loss = Number.NaN, ...rest } = metrics;
  return { numExamples: data.x.shape[0] ?? 0, loss, metrics: rest };
}

/** The model's weights, named as model.json names them. */
export async function readLayerWeights(model: LayersModelLike): Promise<ModelParams> {
  return Promise.all(
    model.weights.map(async (w) => ({
      name: w.originalName,
      shape: [...w.shape] as number[],
      values: Float32Array.from(await w.read().data()),
    })),
  );
}

function lastValues(history: Record<string, unknown[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, values] of Object.entries(history)) {
    const last = values[values.length - 1];
    if (typeof last === 'number') out[key === 'acc' ? 'accuracy' : key] = last;
  }
  return out;
}
