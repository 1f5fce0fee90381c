export type { CoordinatorStore, JobStatusChange, NewEnrollment, NewJob } from './coordinator-store.js';
export { EmbeddedCoordinatorStore, type EmbeddedStoreOptions } from './embedded-store.js';
export { MIGRATIONS, migrate } from './postgres-migrations.js';
export { PostgresCoordinatorStore, type PostgresStoreOptions } from './postgres-store.js';
export type {
  CheckpointPointer,
  ClientEnrollment,
  JobEvent,
  JobRecord,
  JsonValue,
  RoundRecord,
  RoundResult,
  StoredJobStatus,
  StrategyStateRecord,
} from './records.js';
export {
  createCoordinatorStore,
  parseStoreConfig,
  type StoreConfig,
  type StoreConfigInput,
  storeConfigFromEnv,
} from './store-config.js';
