import { FedlearnError } from '@fedlearn/core';
import type { ModelCatalog } from '../models/model-catalog.js';
import type {
  ExplainRequest,
  Explanation,
  InferenceRequest,
  InferenceResult,
  InferenceService,
  InferOptions,
  ModelSwapEvent,
  RoundMetricsEntry,
  ServedModelInfo,
} from './contract.js';
import { attribute, MAX_IG_STEPS } from './explain.js';
import { checkInputs } from './input-check.js';

/** The serving core behind every protocol: the catalog's versions, checked input, batched runs. */
export class CatalogInferenceService implements InferenceService {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly now: () => number = Date.now,
  ) {}

  listModels(): ServedModelInfo[] {
    return this.catalog.names().flatMap((name) => {
      const served = this.catalog.peek(name);
      return served ? [served.info(this.catalog.aliasOf(name))] : [];
    });
  }

  modelInfo(name: string, version?: string): ServedModelInfo {
    const served = this.catalog.acquire(name, version);
    try {
      return served.info(this.catalog.aliasOf(name));
    } finally {
      served.release();
    }
  }

  isLive(): boolean {
    return true;
  }

  isReady(name?: string, version?: string): boolean {
    if (name === undefined) return this.catalog.names().every((n) => this.catalog.peek(n) !== undefined);
    const served = this.catalog.peek(name);
    return (
      served !== undefined && !served.isDisposed && (version === undefined || served.version === version)
    );
  }

  async infer(request: InferenceRequest, options: InferOptions = {}): Promise<InferenceResult> {
    const served = this.catalog.acquire(request.model, request.version);
    try {
      if (options.deadline !== undefined && this.now() > options.deadline) {
        throw new FedlearnError('DEADLINE_EXCEEDED', 'the request deadline passed before it was queued');
      }
      const { data, rows } = checkInputs(served.inputs, request.inputs);
      served.drift?.observe(data, rows);
      const output = await served.batcher.submit(data, rows, options.deadline);
      const spec = served.outputs[0]!;
      return {
        ...(request.id !== undefined ? { id: request.id } : {}),
        model: served.name,
        version: served.version,
        outputs: [{ name: spec.name, datatype: 'FP32', shape: [rows, output.length / rows], data: output }],
      };
    } finally {
      served.release();
    }
  }

  async explain(request: ExplainRequest): Promise<Explanation> {
    const served = this.catalog.acquire(request.model, request.version);
    try {
      const spec = served.inputs[0]!;
      checkInputs(served.inputs, [
        { name: spec.name, datatype: 'FP32', shape: [1, ...spec.shape.slice(1)], data: request.instance },
      ]);
      const outputs = served.outputs[0]!.shape.at(-1) ?? 1;
      if (
        request.target !== undefined &&
        !(Number.isInteger(request.target) && request.target >= 0 && request.target < outputs)
      ) {
        throw new FedlearnError(
          'INPUT_SIGNATURE_MISMATCH',
          `target: an output index from 0 to ${outputs - 1}`,
          {
            details: { field: 'target' },
          },
        );
      }
      const steps = request.steps;
      if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1 && steps <= MAX_IG_STEPS)) {
        throw new FedlearnError('INVALID_ARGUMENT', `steps: an integer from 1 to ${MAX_IG_STEPS}`, {
          details: { field: 'steps' },
        });
      }
      const method = request.method ?? 'integrated-gradients';
      const result = attribute(served.model, request.instance, {
        method,
        ...(request.target !== undefined ? { target: request.target } : {}),
        ...(steps !== undefined ? { steps } : {}),
      });
      return {
        ...(request.id !== undefined ? { id: request.id } : {}),
        model: served.name,
        version: served.version,
        method,
        ...result,
      };
    } finally {
      served.release();
    }
  }

  trainingHistory(name: string): Promise<RoundMetricsEntry[]> {
    return this.catalog.history(name);
  }

  onSwap(listener: (event: ModelSwapEvent) => void): () => void {
    return this.catalog.onSwap(listener);
  }
}
