export {
  type Authenticator,
  createAuthenticator,
  type Principal,
  tokenFromHeader,
} from './auth/authenticator.js';
export { type BatchingOptions, DEFAULT_BATCHING, DynamicBatcher } from './batching/dynamic-batcher.js';
export { type BatchScheduler, systemBatchScheduler } from './batching/scheduler.js';
export {
  resolveServingConfig,
  type ServingConfig,
  type ServingConfigInput,
  servingConfigSchema,
} from './config.js';
export { DriftMonitor, type DriftMonitorOptions, type DriftScore } from './drift/drift-monitor.js';
export {
  binIndex,
  DRIFT_REFERENCE_FILE,
  DRIFT_REFERENCE_FORMAT,
  type DriftReference,
  histogramCounts,
  parseDriftReference,
  readDriftReference,
  serializeDriftReference,
  uniformEdges,
} from './drift/drift-reference.js';
export { populationStabilityIndex } from './drift/psi.js';
export { registerGraphql } from './graphql/graphql-plugin.js';
export type * from './inference/contract.js';
export { CatalogInferenceService } from './inference/inference-service.js';
export { checkInputs, MAX_ROWS_PER_REQUEST } from './inference/input-check.js';
export {
  createServingMetrics,
  type ServingMetrics,
  type ServingProtocol,
} from './metrics/serving-metrics.js';
export { type IntervalTimer, watchAliases } from './models/alias-watcher.js';
export { type ServingBackend, startServingBackend } from './models/backend.js';
export { ModelCatalog, type ModelSource } from './models/model-catalog.js';
export { type ModelTarget, parseModelTarget } from './models/model-target.js';
export {
  type BadRow,
  type BatchPredictOptions,
  type BatchPredictSummary,
  batchPredict,
  listInputFiles,
} from './predict/batch-predict.js';
export { formatOf, type InputRecord, type RecordFormat, readRecords } from './predict/input-records.js';
export { createRestApp, type RestAppOptions } from './rest/rest-app.js';
export { type ServingDeps, type ServingHandle, startServing } from './server.js';
export { type ServingCore, type ServingCoreOptions, startServingCore } from './serving-core.js';
export {
  DEFAULT_STREAM_LIMITS,
  parseRequestEntry,
  resultFields,
  type StreamLimits,
} from './streams/stream-entry.js';
export {
  type StreamsWorkerEvent,
  type StreamsWorkerHandle,
  type StreamsWorkerOptions,
  startStreamsWorker,
} from './streams/worker.js';
