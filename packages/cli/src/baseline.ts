import { evaluateModel, type LabelledData, readWeights, TfjsTrainer } from '@fedlearn/client-node';
import type { PartitionScheme } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import { unionOfClientTraining } from './mnist.js';
import { buildMnistMlp, toTensors } from './mnist-model.js';

export interface BaselineConfig {
  clients: number;
  rounds: number;
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  partitionScheme: PartitionScheme;
}

/**
 * Trains the same model, from the same initial weights, centrally on the union of the clients'
 * training data for as many epochs as each client trained in total (rounds × local epochs).
 */
export async function trainBaseline(
  config: BaselineConfig,
  test: LabelledData,
): Promise<{ accuracy: number; loss: number; seconds: number }> {
  const started = Date.now();
  const union = toTensors(unionOfClientTraining(config.clients, config.partitionScheme, config.seed));
  const model = buildMnistMlp(config.seed);
  try {
    const trainer = new TfjsTrainer({ model, train: union });
    await trainer.fit(await readWeights(model), {
      localEpochs: config.rounds * config.localEpochs,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      seed: config.seed,
    });
    const { loss, metrics } = await evaluateModel(model, test);
    return { accuracy: metrics.accuracy ?? Number.NaN, loss, seconds: (Date.now() - started) / 1000 };
  } finally {
    tf.dispose([union.x, union.y]);
    model.dispose();
  }
}
