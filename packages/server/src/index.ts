export { CheckpointWriter } from './checkpoint.js';
export { ClientRegistry, type RegisteredClient } from './client-registry.js';
export { type CoordinatorConfig, type CoordinatorConfigInput, parseCoordinatorConfig } from './config.js';
export type { ControlApiDeps, ControlRoutes } from './control-api.js';
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type {
  CoordinatorEvent,
  CoordinatorHooks,
  HoldPoint,
  JobPrivacy,
  JobState,
  JobStatus,
  RoundSummary,
  ServerEvaluator,
} from './events.js';
export type { ApiScope } from './identity/admin-tokens.js';
export { ClientEnrollments, type EnrollRequest } from './identity/enrollment.js';
export { type JobSpec, type JobSpecInput, parseJobSpec } from './job-spec.js';
export { ModelRecorder } from './model-recorder.js';
export { nativeX25519 } from './native-x25519.js';
export {
  createKeystreamPool,
  KeystreamPool,
  type KeystreamPoolOptions,
  sharedKeystreamPool,
} from './secagg-workers/pool.js';
export {
  type CoordinatorStore,
  createCoordinatorStore,
  EmbeddedCoordinatorStore,
  PostgresCoordinatorStore,
  type StoreConfigInput,
  storeConfigFromEnv,
} from './store/index.js';
