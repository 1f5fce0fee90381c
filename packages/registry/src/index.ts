export type { ArtifactStore } from './artifact-store/artifact-store.js';
export { LocalArtifactStore } from './artifact-store/local-store.js';
export {
  parseS3Uri,
  S3ArtifactStore,
  type S3Connection,
  type S3StoreOptions,
} from './artifact-store/s3-store.js';
export {
  type LifecycleConfig,
  type LifecycleOverrides,
  redactConfig,
  resolveLifecycleConfig,
} from './config.js';
export {
  createModelLifecycle,
  createRegistry,
  type LifecycleDeps,
  type ModelLifecycle,
  type RegisteredVersion,
  type RunHandle,
  type StartRunOptions,
} from './lifecycle.js';
export { type LoadedModel, loadModel } from './load-model.js';
export { LocalRegistry, type LocalRegistryOptions } from './local/local-registry.js';
export { MlflowHttp, type MlflowHttpOptions } from './mlflow/http.js';
export { MlflowRegistry, type MlflowRegistryOptions } from './mlflow/mlflow-registry.js';
export { MlflowProxyArtifactStore } from './mlflow/proxy-store.js';
export { MlflowTracking, type RunStatus } from './mlflow/tracking.js';
export { MANIFEST_FILE, type ModelFiles } from './model-format/files.js';
export {
  formatMLmodel,
  MLMODEL_FILE,
  type MLmodel,
  MODEL_CARD_FILE,
  MODEL_JSON_FILE,
  parseMLmodel,
} from './model-format/mlmodel.js';
export { renderModelCard } from './model-format/model-card.js';
export {
  type PackInput,
  packModelFolder,
  tfjsVersionOf,
  unpackModelFolder,
} from './model-format/model-folder.js';
export {
  assertAlias,
  assertModelName,
  CHALLENGER,
  CHAMPION,
  formatModelUri,
  type ModelRef,
  parseModelUri,
  parseVersion,
} from './names.js';
export {
  applyPromotionPolicy,
  DEFAULT_PROMOTION_POLICY,
  decidePromotion,
  type PromotionDecision,
  type PromotionPolicy,
  promote,
} from './promotion.js';
export type { AliasAudit, CreateVersionInput, Registry } from './registry.js';
export type * from './types.js';
export { DIFFERENTIAL_PRIVACY } from './types.js';
