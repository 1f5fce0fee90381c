import {
  type DataFingerprint,
  FEDLEARN_VERSION,
  type LayersModelArtifacts,
  type PrivacySpent,
  strategyLabel,
  toFedlearnError,
} from '@fedlearn/core';
import {
  type DifferentialPrivacy,
  type EvaluationSet,
  formatModelUri,
  type JobInfo,
  type ModelLifecycle,
  type RunHandle,
} from '@fedlearn/registry';
import type { Logger } from 'pino';
import type { JobState, RoundSummary } from './events.js';

/**
 * Records a job in the model lifecycle: one run per job, metrics per round, every new global model
 * registered (alias `challenger`) with the promotion policy applied. A registry failure is logged
 * and noted on the round; it never stops training, and the local checkpoint is still written.
 *
 * Recording is idempotent per (job, round): a resumed job reopens its run (`job.runId`), a round
 * whose metrics the run has is not logged again, and a round already registered for this job is
 * reused rather than registered as a second version.
 */
export class ModelRecorder {
  private run: RunHandle | undefined;

  constructor(
    private readonly lifecycle: ModelLifecycle,
    private readonly logger: Logger,
  ) {}

  async start(job: JobState, clients: number): Promise<void> {
    const { model: _model, ...config } = job.spec;
    try {
      this.run = await this.lifecycle.startRun(
        {
          jobId: job.id,
          modelName: job.spec.name,
          strategy: strategyLabel(job.spec.strategy),
          rounds: job.spec.rounds,
          clients,
          secureAggregation: job.spec.secagg.enabled,
          config: config as Record<string, unknown>,
          codeVersion: `fedlearn@${FEDLEARN_VERSION}`,
          ...jobPrivacy(job),
        },
        job.runId ? { resumeRunId: job.runId } : {},
      );
      job.runId = this.run.runId;
    } catch (error) {
      this.logger.error(
        { code: toFedlearnError(error).code },
        `could not start the registry run: ${(error as Error).message}`,
      );
    }
  }

  async round(
    summary: RoundSummary,
    artifacts: LayersModelArtifacts | undefined,
    partitions: Map<string, DataFingerprint>,
  ): Promise<void> {
    const run = this.run;
    if (!run) return;
    try {
      await run.logRoundMetrics(summary.round, roundMetrics(summary));
      if (summary.status !== 'ok' || !artifacts) return;
      const existing = await this.registeredRound(run.job.modelName, run.job.jobId, summary.round);
      if (existing) {
        summary.model = existing;
        return;
      }
      const { metrics, metricSources } = versionEvaluation(summary);
      const registered = await run.registerVersion(artifacts, {
        round: summary.round,
        metrics,
        metricSources,
        ...(summary.privacy ? { privacy: versionPrivacy(summary.privacy) } : {}),
        dataPartitions: [...partitions].map(([clientId, f]) => ({
          clientId,
          sha256: f.sha256,
          examples: f.examples,
        })),
      });
      summary.model = {
        name: registered.version.name,
        version: registered.version.version,
        uri: registered.uri,
        source: registered.version.source,
        aliases: registered.version.aliases,
        promoted: registered.promotion.promote,
      };
    } catch (error) {
      const e = toFedlearnError(error);
      summary.registryError = e.toJSON();
      this.logger.error({ round: summary.round, code: e.code }, `model registry: ${e.message}`);
    }
  }

  /** The version this job registered for `round` before a restart, if any. */
  private async registeredRound(
    name: string,
    jobId: string,
    round: number,
  ): Promise<RoundSummary['model'] | undefined> {
    const versions = await this.lifecycle.registry.listVersions(name).catch((error: unknown) => {
      if (toFedlearnError(error).code === 'REGISTRY_NOT_FOUND') return [];
      throw error;
    });
    const found = versions.find((v) => v.jobId === jobId && v.round === round);
    if (!found) return undefined;
    return {
      name: found.name,
      version: found.version,
      uri: formatModelUri({ name: found.name, version: found.version }),
      source: found.source,
      aliases: found.aliases,
      promoted: found.aliases.includes('champion'),
    };
  }

  async finish(job: JobState): Promise<void> {
    if (!this.run) return;
    const status = job.status === 'completed' ? 'FINISHED' : job.status === 'cancelled' ? 'KILLED' : 'FAILED';
    await this.run.finish(status).catch((error: unknown) => {
      this.logger.error(
        { code: toFedlearnError(error).code },
        `could not close the registry run: ${(error as Error).message}`,
      );
    });
  }
}

function jobPrivacy(job: JobState): { privacy?: JobInfo['privacy'] } {
  const p = job.spec.privacy;
  if (p.mode === 'none') return {};
  return {
    privacy: {
      mode: p.mode,
      noiseMultiplier: p.noiseMultiplier,
      clipNorm: p.clipNorm,
      delta: p.delta,
      ...(p.targetEpsilon === undefined ? {} : { targetEpsilon: p.targetEpsilon }),
    },
  };
}

function versionPrivacy(p: PrivacySpent): DifferentialPrivacy {
  return {
    mode: p.mode,
    epsilon: p.epsilon,
    delta: p.delta,
    noiseMultiplier: p.noiseMultiplier,
    clipNorm: p.clipNorm,
    samplingRate: p.samplingRate,
    rounds: p.steps,
  };
}

function roundMetrics(s: RoundSummary): Record<string, number> {
  const metrics: Record<string, number> = {
    participants: s.completed,
    sampled: s.sampled,
    dropped: s.dropped + s.timedOut,
    failed: s.failed,
    bytes_up: s.bytesUp,
    bytes_down: s.bytesDown,
    seconds: s.seconds,
  };
  if (typeof s.accuracy === 'number') metrics.accuracy = s.accuracy;
  if (typeof s.loss === 'number') metrics.loss = s.loss;
  if (typeof s.trainLoss === 'number') metrics.train_loss = s.trainLoss;
  if (s.privacy) metrics.epsilon = s.privacy.epsilon;
  return metrics;
}

/**
 * The new model's evaluation, each metric named with the data it was measured on. The headline
 * `accuracy`/`loss` (what the promotion policy reads) come from the server-side test set when the
 * coordinator has one, else from federated evaluation; when both ran, the federated ones are kept
 * too, as `federated_*`.
 */
export function versionEvaluation(s: RoundSummary): {
  metrics: Record<string, number>;
  metricSources: Record<string, EvaluationSet>;
} {
  const metrics: Record<string, number> = {};
  const metricSources: Record<string, EvaluationSet> = {};
  const add = (key: string, value: number | undefined, set: EvaluationSet) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    metrics[key] = value;
    metricSources[key] = set;
  };
  if (s.server) {
    add('accuracy', s.server.accuracy, 'server-test-set');
    add('loss', s.server.loss, 'server-test-set');
    add('federated_accuracy', s.federated?.['accuracy'], 'clients-held-out');
    add('federated_loss', s.federated?.loss, 'clients-held-out');
  } else if (s.federated) {
    add('accuracy', s.federated['accuracy'], 'clients-held-out');
    add('loss', s.federated.loss, 'clients-held-out');
  }
  return { metrics, metricSources };
}
