import type { ModelFiles } from './model-format/files.js';
import type { AliasMove, ModelVersionInfo, RegisteredModelInfo } from './types.js';

/** Input to register one model version. */
export interface CreateVersionInput {
  name: string;
  /** The version folder (see `packModelFolder`). */
  files: ModelFiles;
  /** Evaluation metrics of this version (recorded as tags `metric.<name>`). */
  metrics: Record<string, number>;
  round?: number;
  jobId?: string;
  /** The experiment run that produced it (required by MLflow). */
  runId?: string;
  /** Extra tags (string values; never secrets). */
  tags?: Record<string, string>;
}

/** Who moves an alias and why; recorded with every move. */
export interface AliasAudit {
  actor: string;
  reason: string;
}

/**
 * A model registry: registered models, numbered versions, aliases (never stages) and an audit
 * trail of alias moves. Implemented by `LocalRegistry` (embedded default) and `MlflowRegistry`.
 *
 * @example
 * const v = await registry.createVersion({ name: 'mnist', files, metrics: { accuracy: 0.91 } });
 * await registry.setAlias('mnist', 'challenger', v.version, { actor: 'coordinator', reason: 'new global model' });
 */
export interface Registry {
  readonly kind: 'local' | 'mlflow';
  /** Creates the registered model when needed, then the next version. */
  createVersion(input: CreateVersionInput): Promise<ModelVersionInfo>;
  listModels(): Promise<RegisteredModelInfo[]>;
  /** Versions of a model, oldest first. REGISTRY_NOT_FOUND for an unknown model. */
  listVersions(name: string): Promise<ModelVersionInfo[]>;
  getVersion(name: string, version: number): Promise<ModelVersionInfo>;
  /** REGISTRY_NOT_FOUND when the alias (or model) does not exist. */
  getVersionByAlias(name: string, alias: string): Promise<ModelVersionInfo>;
  /** Points `alias` at `version` and records the move. */
  setAlias(name: string, alias: string, version: number, audit: AliasAudit): Promise<AliasMove>;
  deleteAlias(name: string, alias: string, audit: AliasAudit): Promise<AliasMove>;
  /** Every alias move of a model, oldest first. */
  auditLog(name: string): Promise<AliasMove[]>;
  /** The verified files of a version. */
  getFiles(name: string, version: number): Promise<ModelFiles>;
  close(): Promise<void>;
}

/** Tag keys fedlearn writes on versions. */
export const TAGS = {
  metricPrefix: 'metric.',
  round: 'fedlearn.round',
  jobId: 'fedlearn.job_id',
  auditPrefix: 'fedlearn.audit.',
} as const;

export function metricsToTags(metrics: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${TAGS.metricPrefix}${k}`, String(v)]));
}

export function metricsFromTags(tags: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (k.startsWith(TAGS.metricPrefix) && Number.isFinite(Number(v)))
      out[k.slice(TAGS.metricPrefix.length)] = Number(v);
  }
  return out;
}
