export { CheckpointWriter } from './checkpoint.js';
export { ClientRegistry, type RegisteredClient } from './client-registry.js';
export { type CoordinatorConfig, type CoordinatorConfigInput, parseCoordinatorConfig } from './config.js';
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type {
  CoordinatorEvent,
  JobPrivacy,
  JobState,
  JobStatus,
  RoundSummary,
  ServerEvaluator,
} from './events.js';
export { type JobSpec, type JobSpecInput, parseJobSpec } from './job-spec.js';
export { ModelRecorder } from './model-recorder.js';
export { nativeX25519 } from './native-x25519.js';
