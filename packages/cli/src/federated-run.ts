import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { LabelledData } from '@fedlearn/client-node';
import { evaluateModel } from '@fedlearn/client-node';
import type { ModelParams } from '@fedlearn/core';
import type { ModelLifecycle } from '@fedlearn/registry';
import { Coordinator, type JobSpecInput, type JobState } from '@fedlearn/server';
import * as tf from '@tensorflow/tfjs-core';
import type { Logger } from 'pino';
import { spawnClients } from './client-fleet.js';
import { followJob, waitForClients } from './demo-progress.js';
import { buildMnistMlp } from './mnist-model.js';
import type { Progress } from './report.js';

/** A server-side evaluator of a global model on the MNIST test set. */
export function mnistEvaluator(test: LabelledData, seed: number) {
  const model = buildMnistMlp(seed);
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return async (params: ModelParams) => {
    model.setWeights(params.map((p) => tf.tensor(p.values, p.shape)));
    const { loss, metrics } = await evaluateModel(model, test);
    return { loss, accuracy: metrics.accuracy };
  };
}

export interface FederatedRunOptions {
  binPath: string;
  clients: number;
  /** `fedlearn client` arguments shared by every client (partition, seed, backend). */
  clientArgs: string[];
  job: JobSpecInput;
  test: LabelledData;
  seed: number;
  lifecycle: ModelLifecycle;
  checkpointDir: string;
  logger: Logger;
  logFile: string;
  progress: Progress;
}

/**
 * One federated job on this machine: a coordinator, one `fedlearn client` process per partition,
 * the job followed round by round; everything is stopped when it ends.
 */
export async function runFederatedJob(
  options: FederatedRunOptions,
): Promise<{ job: JobState; seconds: number }> {
  const clientToken = randomBytes(24).toString('base64url');
  const coordinator = await Coordinator.start({
    lifecycle: options.lifecycle,
    port: 0,
    apiToken: randomBytes(24).toString('base64url'),
    clientToken,
    checkpointDir: options.checkpointDir,
    // Each run is one job with its own state store: a run stopped earlier is not resumed by the next.
    stateDir: join(options.checkpointDir, 'state'),
    logger: options.logger,
    evaluator: mnistEvaluator(options.test, options.seed),
  });
  const fleet = spawnClients({
    binPath: options.binPath,
    count: options.clients,
    serverUrl: coordinator.url,
    token: clientToken,
    args: options.clientArgs,
    logFile: options.logFile,
    onExit: (index, code) => {
      if (code !== 0 && code !== null) options.progress.line(`client-${index} exited with code ${code}`);
    },
  });
  const started = Date.now();
  try {
    await waitForClients(coordinator, options.clients, options.progress);
    const submitted = await coordinator.submitJob(options.job);
    const job = await followJob(coordinator, submitted.id, submitted.spec.rounds, options.progress);
    return { job, seconds: (Date.now() - started) / 1000 };
  } finally {
    await fleet.stop();
    await coordinator.stop();
  }
}
