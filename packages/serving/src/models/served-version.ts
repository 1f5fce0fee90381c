import { FedlearnError } from '@fedlearn/core';
import type { LoadedModel } from '@fedlearn/registry';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BatcherHooks, type BatchingOptions, DynamicBatcher } from '../batching/dynamic-batcher.js';
import type { BatchScheduler } from '../batching/scheduler.js';
import type { DriftMonitor } from '../drift/drift-monitor.js';
import type { ModelLineage, ServedModelInfo, TensorSpec } from '../inference/contract.js';
import { assertModelMatchesSignature, instanceSize, toTensorSpecs } from './signature.js';

/**
 * One registry version loaded into tfjs, with its own batcher. Requests hold it while they run
 * (`acquire`/`release`), so a version retired by a swap is disposed only when its last request ends.
 */
export class ServedVersion {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  readonly inputWidth: number;
  readonly batcher: DynamicBatcher;
  readonly lineage: ModelLineage;
  /** Compares live inputs with the training data's histograms, when the version has a reference. */
  drift: DriftMonitor | undefined;
  private inFlight = 0;
  private retired = false;
  private disposed = false;

  private constructor(
    readonly name: string,
    readonly version: string,
    readonly model: tfl.LayersModel,
    loaded: LoadedModel,
    batching: BatchingOptions,
    scheduler: BatchScheduler | undefined,
    hooks: BatcherHooks,
  ) {
    this.inputs = toTensorSpecs(loaded.mlmodel.signature.inputs);
    this.outputs = toTensorSpecs(loaded.mlmodel.signature.outputs);
    this.inputWidth = instanceSize(this.inputs[0]!);
    const v = loaded.version;
    const f = loaded.mlmodel.fedlearn;
    this.lineage = {
      createdAt: v.createdAt,
      metrics: { ...v.metrics },
      strategy: f.strategy,
      secureAggregation: f.secureAggregation,
      ...(v.jobId ? { jobId: v.jobId } : {}),
      ...(v.runId ? { runId: v.runId } : {}),
      ...(v.round !== undefined ? { round: v.round } : {}),
    };
    this.batcher = new DynamicBatcher((input, rows) => this.execute(input, rows), batching, scheduler, hooks);
  }

  /**
   * Loads, checks against the MLmodel signature and warms up a version (a first run compiles the
   * backend's kernels). Anything wrong is MODEL_VERSION_REFUSED and nothing stays allocated.
   */
  static async load(
    loaded: LoadedModel,
    batching: BatchingOptions,
    scheduler?: BatchScheduler,
    hooks: BatcherHooks = {},
  ): Promise<ServedVersion> {
    const name = loaded.version.name;
    const version = String(loaded.version.version);
    let model: tfl.LayersModel;
    try {
      const { weightData, ...rest } = loaded.artifacts;
      const weights = weightData.buffer.slice(
        weightData.byteOffset,
        weightData.byteOffset + weightData.byteLength,
      );
      model = await tfl.loadLayersModel(
        tf.io.fromMemory({
          ...rest,
          weightData: weights as ArrayBuffer,
          convertedBy: rest.convertedBy ?? null,
        }),
      );
    } catch (cause) {
      throw new FedlearnError('MODEL_VERSION_REFUSED', `${name} v${version}: tfjs cannot load it`, {
        cause,
        details: { model: name, version },
      });
    }
    try {
      assertModelMatchesSignature(loaded.mlmodel.signature, model);
      const served = new ServedVersion(name, version, model, loaded, batching, scheduler, hooks);
      served.warmUp(Math.max(1, batching.maxBatchSize));
      return served;
    } catch (error) {
      model.dispose();
      if (error instanceof FedlearnError) {
        throw new FedlearnError('MODEL_VERSION_REFUSED', `${name} v${version}: ${error.message}`, {
          details: { ...error.details, model: name, version },
        });
      }
      throw error;
    }
  }

  private warmUp(rows: number): void {
    for (const n of new Set([1, rows])) {
      const output = this.execute(new Float32Array(n * this.inputWidth), n);
      if (!output.every(Number.isFinite)) {
        throw new FedlearnError('MODEL_VERSION_REFUSED', 'warm-up produced non-finite outputs');
      }
    }
  }

  /** One synchronous model run; every intermediate tensor is freed before it returns. */
  execute(input: Float32Array, rows: number): Float32Array {
    // The output tensor leaves tidy and is read outside it: returning the read array from tidy would
    // make tfjs walk it element by element looking for tensors to keep.
    const y = tf.tidy(() => this.model.predict(tf.tensor2d(input, [rows, this.inputWidth])) as tf.Tensor);
    try {
      return y.dataSync() as Float32Array;
    } finally {
      y.dispose();
    }
  }

  info(alias: string | undefined): ServedModelInfo {
    return {
      name: this.name,
      version: this.version,
      ...(alias ? { alias } : {}),
      platform: 'tfjs',
      inputs: this.inputs,
      outputs: this.outputs,
      ready: !this.disposed,
      lineage: this.lineage,
    };
  }

  acquire(): void {
    this.inFlight += 1;
  }

  release(): void {
    this.inFlight -= 1;
    if (this.retired && this.inFlight === 0) this.dispose();
  }

  /** Stops taking new work (the caller already points elsewhere); disposes once idle. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private dispose(): void {
    if (this.disposed) return;
    this.batcher.flush();
    this.disposed = true;
    this.drift?.close();
    this.model.dispose();
  }
}
