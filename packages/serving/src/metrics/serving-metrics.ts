import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Which front end answered a request (label `protocol`). */
export type ServingProtocol = 'rest' | 'graphql' | 'grpc' | 'streams';

/**
 * The Prometheus metrics of one serving process, on their own registry so that several servers
 * in one process (tests) do not collide. Front ends record requests; the core records batches,
 * queue depth, versions in use and swaps. 9B's drift monitor registers its gauges on `registry`.
 */
export interface ServingMetrics {
  readonly registry: Registry;
  observeRequest(protocol: ServingProtocol, model: string, outcome: string, seconds: number): void;
  observeBatch(model: string, rows: number): void;
  setQueueDepth(model: string, rows: number): void;
  setVersionInUse(model: string, version: number): void;
  countSwap(model: string, result: 'swapped' | 'refused'): void;
}

/** The `model` label of a request for a model this process does not serve: one series, however many names. */
export const UNSERVED_MODEL_LABEL = '(not served)';

export function createServingMetrics(registry: Registry = new Registry()): ServingMetrics {
  // Request labels take the model name from the caller; only names of served models become series, so
  // requests for made-up names cannot grow the registry without bound.
  const served = new Set<string>();
  const modelLabel = (model: string) => (served.has(model) ? model : UNSERVED_MODEL_LABEL);
  const requests = new Counter({
    name: 'fedlearn_serving_requests_total',
    help: 'Prediction requests by protocol, model and outcome (ok or an error code)',
    labelNames: ['protocol', 'model', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'fedlearn_serving_request_duration_seconds',
    help: 'Prediction latency by protocol, from request received to response ready',
    labelNames: ['protocol', 'model'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const batches = new Histogram({
    name: 'fedlearn_serving_batch_rows',
    help: 'Rows per model execution after dynamic batching',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'fedlearn_serving_queue_rows',
    help: 'Rows waiting in the batching queue',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const version = new Gauge({
    name: 'fedlearn_serving_model_version',
    help: 'Registry version each served model answers from',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const swaps = new Counter({
    name: 'fedlearn_serving_model_swaps_total',
    help: 'Alias moves seen by serving: swapped in, or refused (the old version kept serving)',
    labelNames: ['model', 'result'] as const,
    registers: [registry],
  });
  return {
    registry,
    observeRequest(protocol, model, outcome, seconds) {
      const label = modelLabel(model);
      requests.inc({ protocol, model: label, outcome });
      latency.observe({ protocol, model: label }, seconds);
    },
    observeBatch: (model, rows) => batches.observe({ model }, rows),
    setQueueDepth: (model, rows) => queueDepth.set({ model }, rows),
    setVersionInUse: (model, v) => {
      served.add(model);
      version.set({ model }, v);
    },
    countSwap: (model, result) => swaps.inc({ model, result }),
  };
}
