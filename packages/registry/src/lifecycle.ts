import { randomUUID } from 'node:crypto';
import { type Clock, FedlearnError, type LayersModelArtifacts, systemClock } from '@fedlearn/core';
import { S3ArtifactStore } from './artifact-store/s3-store.js';
import type { LifecycleConfig } from './config.js';
import { type LoadedModel, loadModel } from './load-model.js';
import { LocalRegistry } from './local/local-registry.js';
import { MlflowHttp } from './mlflow/http.js';
import { MlflowRegistry } from './mlflow/mlflow-registry.js';
import type { RunStatus } from './mlflow/tracking.js';
import { packModelFolder } from './model-format/model-folder.js';
import { assertMetricKey, assertModelName, CHALLENGER, formatModelUri } from './names.js';
import { applyPromotionPolicy, type PromotionDecision, type PromotionPolicy, promote } from './promotion.js';
import type { Registry } from './registry.js';
import { historyFrom, localRunTracker, mlflowRunTracker, type RunTracker } from './run-trackers.js';
import {
  type AliasMove,
  DIFFERENTIAL_PRIVACY,
  type JobInfo,
  type ModelVersionInfo,
  type RoundMetrics,
  type VersionMetadata,
} from './types.js';

/** Injected dependencies; all optional. */
export interface LifecycleDeps {
  clock?: Pick<Clock, 'now'>;
  /** Waits between MLflow retries (tests pass an instant one). */
  delay?: (ms: number) => Promise<void>;
  /** Who the audit trail names for automatic moves. */
  actor?: string;
}

/** What registering a global model produced. */
export interface RegisteredVersion {
  version: ModelVersionInfo;
  /** `models:/<name>/<version>` */
  uri: string;
  promotion: PromotionDecision & { move?: AliasMove };
}

/** One job's experiment run: metrics per round, model versions, then `finish`. */
export interface RunHandle {
  readonly runId: string;
  readonly job: JobInfo;
  /** Logs a round's metrics with `step = round`, once: a round the run has metrics for is skipped (resume). */
  logRoundMetrics(round: number, metrics: Record<string, number>): Promise<void>;
  /** Stores, registers (alias `challenger`) and applies the promotion policy to a global model. */
  registerVersion(artifacts: LayersModelArtifacts, metadata: VersionMetadata): Promise<RegisteredVersion>;
  finish(status?: RunStatus): Promise<void>;
}

/** Options of `ModelLifecycle.startRun`. */
export interface StartRunOptions {
  /** The `runId` of a run this job started before a restart: metrics keep accumulating there. */
  resumeRunId?: string;
}

/** The model lifecycle the coordinator drives. */
export interface ModelLifecycle {
  readonly registry: Registry;
  readonly policy: PromotionPolicy;
  /** Starts the job's run, or reopens `resumeRunId` after a coordinator restart. */
  startRun(job: JobInfo, options?: StartRunOptions): Promise<RunHandle>;
  loadModel(uri: string): Promise<LoadedModel>;
  /** Manual promotion to `champion`, recorded with actor and reason. */
  promote(name: string, version: number, audit: { actor: string; reason: string }): Promise<AliasMove>;
  close(): Promise<void>;
}

/** Builds the registry the configuration names (local by default, MLflow when a tracking URI is set). */
export function createRegistry(
  config: LifecycleConfig,
  deps: LifecycleDeps = {},
): { registry: Registry; http?: MlflowHttp } {
  const clock = deps.clock ?? systemClock;
  if (config.registry.kind === 'mlflow') {
    const { trackingUri, token, username, password } = config.registry;
    const http = new MlflowHttp({
      trackingUri,
      ...(token ? { token } : {}),
      ...(username !== undefined && password !== undefined ? { username, password } : {}),
      ...config.retry,
      ...(deps.delay ? { delay: deps.delay } : {}),
    });
    return { registry: new MlflowRegistry({ http, ...(config.s3 ? { s3: config.s3 } : {}), clock }), http };
  }
  const store =
    config.artifacts.kind === 's3' && config.s3
      ? new S3ArtifactStore({
          ...config.s3,
          bucket: config.artifacts.bucket,
          prefix: config.artifacts.prefix,
        })
      : undefined;
  return { registry: new LocalRegistry({ home: config.home, clock, ...(store ? { store } : {}) }) };
}

function runParams(job: JobInfo): Record<string, string> {
  return {
    model_name: job.modelName,
    strategy: job.strategy,
    rounds: String(job.rounds),
    clients: String(job.clients),
    secure_aggregation: String(job.secureAggregation),
    differential_privacy: job.privacy?.mode ?? DIFFERENTIAL_PRIVACY,
    ...(job.privacy
      ? {
          dp_noise_multiplier: String(job.privacy.noiseMultiplier),
          dp_clip_norm: String(job.privacy.clipNorm),
          dp_delta: String(job.privacy.delta),
          ...(job.privacy.targetEpsilon === undefined
            ? {}
            : { dp_target_epsilon: String(job.privacy.targetEpsilon) }),
        }
      : {}),
    code_version: job.codeVersion ?? 'unknown',
  };
}

/**
 * Creates the lifecycle from a resolved configuration.
 *
 * @example
 * const lifecycle = createModelLifecycle(resolveLifecycleConfig(process.env));
 * const run = await lifecycle.startRun({ jobId, modelName: 'mnist', strategy: 'fedavg', rounds: 5, clients: 10, secureAggregation: true });
 * await run.logRoundMetrics(1, { accuracy: 0.8, loss: 0.5 });
 * const { version, promotion } = await run.registerVersion(artifacts, { round: 1, metrics: { accuracy: 0.8 } });
 * await run.finish('FINISHED');
 */
export function createModelLifecycle(config: LifecycleConfig, deps: LifecycleDeps = {}): ModelLifecycle {
  const clock = deps.clock ?? systemClock;
  const actor = deps.actor ?? 'fedlearn-coordinator';
  const { registry, http } = createRegistry(config, deps);
  const tracker: RunTracker =
    http && config.registry.kind === 'mlflow'
      ? mlflowRunTracker(http, config.registry.experimentName, clock)
      : localRunTracker(config.home, clock);

  const startRun = async (job: JobInfo, options: StartRunOptions = {}): Promise<RunHandle> => {
    assertModelName(job.modelName);
    if (!job.jobId) throw new FedlearnError('INVALID_ARGUMENT', 'a job needs a jobId');
    const history: RoundMetrics[] = [];
    let runId: string;
    if (options.resumeRunId) {
      runId = options.resumeRunId;
      history.push(...historyFrom(await tracker.resume(runId)));
    } else {
      runId = await tracker.start(job, runParams(job));
    }
    let finished = false;
    return {
      runId,
      job,
      async logRoundMetrics(round, metrics) {
        if (!Number.isInteger(round) || round < 0)
          throw new FedlearnError('INVALID_ARGUMENT', `invalid round ${round}`);
        for (const key of Object.keys(metrics)) assertMetricKey(key);
        if (history.some((h) => h.round === round)) return;
        const entries = Object.entries(metrics).filter(([, v]) => Number.isFinite(v));
        history.push({ round, metrics: Object.fromEntries(entries) });
        const timestamp = clock.now();
        await tracker.log(
          runId,
          entries.map(([key, value]) => ({ key, value, timestamp, step: round })),
        );
      },
      async registerVersion(artifacts, metadata) {
        const { files } = packModelFolder({
          artifacts,
          job,
          metadata,
          history,
          runId,
          createdAt: new Date(clock.now()).toISOString(),
          modelUuid: randomUUID(),
        });
        const version = await registry.createVersion({
          name: job.modelName,
          files,
          metrics: metadata.metrics,
          round: metadata.round,
          jobId: job.jobId,
          runId,
          tags: {
            'fedlearn.code_version': job.codeVersion ?? 'unknown',
            'fedlearn.strategy': job.strategy,
            'fedlearn.partitions': String(metadata.dataPartitions?.length ?? 0),
          },
        });
        await registry.setAlias(job.modelName, CHALLENGER, version.version, {
          actor,
          reason: `new global model of job ${job.jobId}, round ${metadata.round}`,
        });
        const promotion = await applyPromotionPolicy(
          registry,
          job.modelName,
          version.version,
          config.promotion,
          actor,
        );
        const latest = await registry.getVersion(job.modelName, version.version);
        return {
          version: latest,
          uri: formatModelUri({ name: job.modelName, version: version.version }),
          promotion,
        };
      },
      async finish(status = 'FINISHED') {
        if (finished) return;
        finished = true;
        await tracker.finish(runId, status);
      },
    };
  };

  return {
    registry,
    policy: config.promotion,
    startRun,
    loadModel: (uri) => loadModel(registry, uri),
    promote: (name, version, audit) => promote(registry, name, version, audit),
    close: () => registry.close(),
  };
}
