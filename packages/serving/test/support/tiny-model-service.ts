/**
 * A test-only InferenceService over a real tfjs model (a seeded dense softmax layer, 4 features -> 3 classes,
 * cpu backend), for the front-end tests to run before and beside the serving core. It checks inputs against
 * the signature, honours deadlines against an injected clock, and can swap versions.
 */
import '@tensorflow/tfjs-backend-cpu';
import { FedlearnError } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {
  InferenceRequest,
  InferenceResult,
  InferenceService,
  InferOptions,
  ModelSwapEvent,
  ServedModelInfo,
} from '../../src/inference/contract.js';

export const FEATURES = 4;
export const CLASSES = 3;

export function tinyModel(seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: CLASSES,
        inputShape: [FEATURES],
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
        biasInitializer: 'zeros',
      }),
    ],
  });
}

/** What the model itself answers for these rows, computed directly (the expected value in tests). */
export function directPredict(model: tfl.LayersModel, rows: number[][]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor2d(rows)) as tf.Tensor).dataSync() as Float32Array);
}

interface Entry {
  version: string;
  model: tfl.LayersModel;
}

export class TinyModelService implements InferenceService {
  readonly models = new Map<string, Entry>();
  /** Models whose backend is "down": infer fails REGISTRY_UNAVAILABLE. */
  readonly unavailable = new Set<string>();
  now = 0;
  calls = 0;
  /** Feature names the signature declares (none by default). */
  featureNames: string[] | undefined;
  /** Every infer fails SERVING_QUEUE_FULL while set. */
  queueFull = false;
  /** Failing inference `failNext` times, to test retries and dead letters. */
  failNext = 0;
  private readonly listeners = new Set<(event: ModelSwapEvent) => void>();

  constructor(name = 'tiny', seed = 1) {
    this.models.set(name, { version: '1', model: tinyModel(seed) });
  }

  swap(name: string, version: string, seed: number): void {
    const previous = this.models.get(name);
    this.models.set(name, { version, model: tinyModel(seed) });
    for (const listener of this.listeners) {
      listener({
        model: name,
        version,
        at: this.now,
        ...(previous ? { previousVersion: previous.version } : {}),
      });
    }
  }

  private entry(name: string, version?: string): Entry {
    const entry = this.models.get(name);
    if (!entry || (version !== undefined && version !== entry.version)) {
      throw new FedlearnError('MODEL_NOT_SERVED', 'no such model or version is served', {
        details: { model: name },
      });
    }
    return entry;
  }

  listModels(): ServedModelInfo[] {
    return [...this.models.keys()].map((name) => this.modelInfo(name));
  }

  modelInfo(name: string, version?: string): ServedModelInfo {
    const entry = this.entry(name, version);
    return {
      name,
      version: entry.version,
      alias: 'champion',
      platform: 'tfjs',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [-1, FEATURES],
          ...(this.featureNames ? { featureNames: this.featureNames } : {}),
        },
      ],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] }],
      ready: true,
    };
  }

  isLive(): boolean {
    return true;
  }

  isReady(name?: string, version?: string): boolean {
    if (name === undefined) return this.models.size > 0;
    const entry = this.models.get(name);
    return entry !== undefined && (version === undefined || entry.version === version);
  }

  async infer(request: InferenceRequest, options: InferOptions = {}): Promise<InferenceResult> {
    this.calls += 1;
    if (options.deadline !== undefined && options.deadline <= this.now) {
      throw new FedlearnError('DEADLINE_EXCEEDED', 'the request deadline passed before it ran');
    }
    if (this.unavailable.has(request.model)) {
      throw new FedlearnError('REGISTRY_UNAVAILABLE', 'the model backend is unavailable');
    }
    if (this.queueFull) throw new FedlearnError('SERVING_QUEUE_FULL', 'the batching queue is full');
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new FedlearnError('INTERNAL', 'injected failure');
    }
    const entry = this.entry(request.model, request.version);
    const input = request.inputs[0];
    if (request.inputs.length !== 1 || !input || input.name !== 'input') {
      throw new FedlearnError('INPUT_SIGNATURE_MISMATCH', 'expected one input named "input"', {
        details: { field: 'inputs' },
      });
    }
    if (input.shape.length !== 2 || input.shape[1] !== FEATURES) {
      throw new FedlearnError('INPUT_SIGNATURE_MISMATCH', `input shape must be [n, ${FEATURES}]`, {
        details: { field: 'input.shape' },
      });
    }
    const rows = input.shape[0]!;
    const data = tf.tidy(
      () =>
        (
          entry.model.predict(tf.tensor2d(input.data, [rows, FEATURES])) as tf.Tensor
        ).dataSync() as Float32Array,
    );
    return {
      ...(request.id === undefined ? {} : { id: request.id }),
      model: request.model,
      version: entry.version,
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [rows, CLASSES], data }],
    };
  }

  onSwap(listener: (event: ModelSwapEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
