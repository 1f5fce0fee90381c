import {
  createRng,
  type DataFingerprint,
  type EvaluateRes,
  FedlearnError,
  type FitRes,
  float32ToBytes,
  type ModelParams,
  type Rng,
  type SecAggEnvelope,
  strategyStateToJson,
  toFedlearnError,
  unflattenParams,
  weightSpecsFrom,
} from '@fedlearn/core';
import type { CheckpointWriter } from './checkpoint.js';
import type { RegisteredClient } from './client-registry.js';
import type { CoordinatorHooks, HoldPoint, JobState, RoundSummary, ServerEvaluator } from './events.js';
import { initialModel } from './initial-model.js';
import { JobPrivacyAccount } from './job-privacy.js';
import type { ModelRecorder } from './model-recorder.js';
import { RoundEvaluation } from './round/evaluation.js';
import { PlainRoundTraining } from './round/plain-round.js';
import type { GlobalModel, RoundTraining, TrainingDeps } from './round/round-training.js';
import { SecureRoundTraining } from './round/secure-round.js';
import type { CheckpointPointer, CoordinatorStore, JsonValue } from './store/index.js';

/** Where a job picks up after a restart or a pause: its last completed round. */
export interface ResumePoint {
  round: number;
  model: GlobalModel;
  checkpoint: CheckpointPointer;
}

import { ClientRecords } from './sampling/client-records.js';
import { overSelect } from './sampling/over-selection.js';

/** What a job needs: what its rounds need, plus where results go. */
export interface JobRunnerDeps extends Omit<TrainingDeps, 'jobId' | 'contributors'> {
  job: JobState;
  store: CoordinatorStore;
  checkpoints: CheckpointWriter;
  evaluator: ServerEvaluator | undefined;
  recorder: ModelRecorder | undefined;
  resume: ResumePoint | undefined;
  hooks: CoordinatorHooks | undefined;
}

/** Why the runner stops before its last round. */
type Stop = 'cancelled' | 'paused' | 'shutdown';

/**
 * Runs one job: R rounds of sample → fit → aggregate → evaluate → checkpoint, each completed round
 * written to the state store (model pointer, metrics, strategy state) before the next starts, so a
 * restarted coordinator resumes from the last one. A job stops early when cancelled or paused; the
 * round in flight is then abandoned and, on resume, restarts from the start.
 */
export class JobRunner {
  private model: GlobalModel | undefined;
  private checkpoint: CheckpointPointer | undefined;
  private readonly evaluation: RoundEvaluation;
  /** Plain or secure, chosen once for the whole job. */
  private readonly training: RoundTraining;
  private pendingParameters: ((clientId: string, message: unknown) => void) | undefined;
  private stop: Stop | undefined;
  /** Aborts whatever the job is waiting for (clients, the initial model) when it stops. */
  private readonly abort = new AbortController();
  /** Data fingerprints of the clients whose updates shaped the model so far (lineage). */
  private readonly contributors = new Map<string, DataFingerprint>();
  /** ε spent so far; stops the job before a round that would exceed its privacy budget. */
  private readonly privacy: JobPrivacyAccount;

  constructor(private readonly deps: JobRunnerDeps) {
    this.privacy = new JobPrivacyAccount(deps.spec);
    const trainingDeps = {
      jobId: deps.job.id,
      spec: deps.spec,
      strategy: deps.strategy,
      clients: deps.clients,
      clock: deps.clock,
      logger: deps.logger,
      maxPayloadBytes: deps.maxPayloadBytes,
      contributors: this.contributors,
      ...(deps.records ? { records: deps.records } : {}),
      emit: deps.emit,
    };
    this.training = deps.spec.secagg.enabled
      ? new SecureRoundTraining(trainingDeps)
      : new PlainRoundTraining(trainingDeps);
    this.evaluation = new RoundEvaluation({ ...trainingDeps, evaluator: deps.evaluator });
  }

  get id(): string {
    return this.deps.job.id;
  }

  async run(): Promise<void> {
    const { job, spec, store } = this.deps;
    let error: FedlearnError | undefined;
    try {
      await this.setStatus('running');
      await this.start();
      for (let round = (this.deps.resume?.round ?? 0) + 1; round <= spec.rounds && !this.stop; round++) {
        job.currentRound = round;
        const summary = await this.runRound(round);
        if (summary === undefined) break;
        if (this.stop === 'shutdown') break;
        if (this.stop) {
          // The round in flight is abandoned, not completed: on resume it starts again.
          await store.failRound(job.id, round, {
            code: 'ROUND_ABORTED',
            message: `the job was ${this.stop}`,
          });
          break;
        }
        await this.deps.recorder?.round(summary, this.artifacts(), this.contributors);
        await this.hold('recorded', round);
        await store.completeRound(job.id, round, {
          participants: summary.participants ?? [],
          metrics: toJson(summary) as Record<string, JsonValue>,
          checkpoint: this.checkpoint!,
          strategyState: strategyStateToJson(this.deps.strategy.state()) as unknown as JsonValue,
        });
        job.rounds.push(summary);
        this.deps.emit({ type: 'round_completed', job, summary, strategyState: this.deps.strategy.state() });
      }
    } catch (caught) {
      if (!this.stop) {
        error = toFedlearnError(caught);
        this.deps.logger.error({ jobId: job.id, code: error.code }, `job failed: ${error.message}`);
      }
    } finally {
      const privacy = this.privacy.summary();
      if (privacy) job.privacy = privacy;
      this.training.cancel();
      this.evaluation.cancel();
      await this.finish(error);
    }
  }

  /** Ends the job as `cancelled`; the round in flight is abandoned. */
  cancel(): void {
    this.halt('cancelled');
  }

  /** Stops the job after abandoning the round in flight; it stays `paused` until resumed. */
  pause(): void {
    this.halt('paused');
  }

  /**
   * Stops for a coordinator shutdown: the round in flight is abandoned and the job stays `running`
   * in the store, so the next coordinator resumes it from its last completed round.
   */
  shutdown(): void {
    this.halt('shutdown');
  }

  /** The global model as tfjs layers artifacts (undefined before the first model exists). */
  artifacts() {
    const model = this.model;
    if (!model?.topology) return undefined;
    return {
      modelTopology: model.topology,
      weightSpecs: weightSpecsFrom(model.specs),
      weightData: float32ToBytes(model.flat),
    };
  }

  currentParams(): ModelParams | undefined {
    return this.model && unflattenParams(this.model.flat, this.model.specs);
  }

  private halt(stop: Stop): void {
    this.stop ??= stop;
    this.abort.abort();
    this.training.cancel();
    this.evaluation.cancel();
  }

  private async start(): Promise<void> {
    const { job, resume, store, recorder } = this.deps;
    if (resume) {
      this.privacy.replay(job.rounds);
      this.model = resume.model;
      this.checkpoint = resume.checkpoint;
    } else {
      this.model = await initialModel(
        { ...this.deps, jobId: job.id },
        (handler) => {
          this.pendingParameters = handler;
        },
        this.abort.signal,
      );
      this.pendingParameters = undefined;
      // Round 0 is the initial model: what a round that fails before any succeeded leaves in place.
      this.checkpoint = (await this.deps.checkpoints.saveModel(job.id, 0, this.model)).pointer;
    }
    const runId = job.runId;
    await recorder?.start(job, this.deps.clients.size);
    if (job.runId && job.runId !== runId) await store.setJobRunId(job.id, job.runId);
  }

  private async finish(error: FedlearnError | undefined): Promise<void> {
    const { job, clock, emit } = this.deps;
    if (this.stop === 'shutdown' && !error) return;
    const status: JobState['status'] = error
      ? 'failed'
      : this.stop === 'paused' || this.stop === 'cancelled'
        ? this.stop
        : 'completed';
    if (error) job.error = error.toJSON();
    if (status !== 'paused') job.finishedAt = new Date(clock.now()).toISOString();
    try {
      await this.setStatus(status, error);
    } catch (caught) {
      this.deps.logger.error(
        { jobId: job.id, code: toFedlearnError(caught).code },
        'could not record the job status',
      );
    }
    if (status === 'paused') return;
    await this.deps.recorder?.finish(job);
    emit({ type: 'job_finished', job });
  }

  private async setStatus(status: JobState['status'], error?: FedlearnError): Promise<void> {
    const { job, store, emit } = this.deps;
    const record = await store.setJobStatus(job.id, {
      status,
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    });
    job.status = status;
    if (record.startedAt) job.startedAt = record.startedAt;
    if (status === 'running') emit({ type: 'job_started', job });
    emit({ type: 'job_status', job });
  }

  /** One round's summary, or undefined when the privacy budget ends the job before it. */
  private async runRound(round: number): Promise<RoundSummary | undefined> {
    const { spec, strategy, clock, store } = this.deps;
    const global = this.model!;
    const started = clock.now();
    const summary: RoundSummary = {
      round,
      status: 'ok',
      sampled: 0,
      completed: 0,
      dropped: 0,
      failed: 0,
      timedOut: 0,
      seconds: 0,
      bytesUp: 0,
      bytesDown: 0,
    };
    const enough = await this.deps.clients.waitForClients(
      strategy.minAvailableClients,
      spec.clientWaitMs,
      clock,
      this.abort.signal,
    );
    if (!enough || this.stop) {
      return this.failRound(
        summary,
        started,
        new FedlearnError(
          'QUORUM_NOT_REACHED',
          `fewer than ${strategy.minAvailableClients} clients connected within ${spec.clientWaitMs} ms`,
        ),
      );
    }
    // One generator per round: a resumed job samples round r exactly as an uninterrupted one would.
    const rng = roundRng(spec.seed, round);
    const eligible = this.training.eligible(this.deps.clients.ready());
    if (!this.privacy.allows(round, eligible.length)) {
      this.deps.logger.info({ jobId: this.id, round }, this.privacy.summary()?.stopped?.reason ?? '');
      return undefined;
    }
    const chosen = strategy.configureFit(round, eligible, rng);
    const { sampled, quorum } = spec.secagg.enabled
      ? { sampled: chosen, quorum: chosen.length }
      : overSelect(chosen, eligible, spec.overSelection, this.deps.records ?? new ClientRecords(), rng);
    summary.sampled = sampled.length;
    summary.participants = [...sampled];
    await store.startRound(this.id, round, sampled);
    this.deps.logger.info({ round, sampled: sampled.length }, `round ${round} started`);
    this.deps.emit({ type: 'round_started', jobId: this.id, round, sampled });
    try {
      const trainingStarted = clock.now();
      const training = this.training.run({ round, sampled, quorum, global, summary });
      training.catch(() => undefined); // awaited below; this only keeps a hold from reporting it unhandled
      await this.hold('training', round);
      const { params, metrics } = await training;
      await this.hold('aggregation', round);
      summary.stageSeconds = { training: (clock.now() - trainingStarted) / 1000 };
      global.flat = params;
      summary.trainLoss = metrics.loss;
      summary.trainMetrics = metrics;
      this.privacy.record(summary, eligible.length);
    } catch (error) {
      return this.failRound(summary, started, toFedlearnError(error));
    }
    const evaluationStarted = clock.now();
    await this.evaluation.run(round, global, summary, rng);
    const saving = clock.now();
    const saved = await this.deps.checkpoints.saveModel(this.id, round, global);
    this.checkpoint = saved.pointer;
    summary.checkpoint = saved.folder;
    summary.stageSeconds = {
      ...summary.stageSeconds,
      evaluation: (saving - evaluationStarted) / 1000,
      checkpoint: (clock.now() - saving) / 1000,
    };
    summary.seconds = (clock.now() - started) / 1000;
    this.deps.logger.info(
      { round, completed: summary.completed, seconds: summary.seconds, accuracy: summary.accuracy },
      `round ${round} completed`,
    );
    return summary;
  }

  private failRound(summary: RoundSummary, started: number, error: FedlearnError): RoundSummary {
    this.deps.logger.warn({ jobId: this.id, round: summary.round, code: error.code }, error.message);
    summary.status = 'failed';
    summary.error = error.toJSON();
    summary.seconds = (this.deps.clock.now() - started) / 1000;
    return summary;
  }

  /** A test's chance to stop the coordinator at an exact point (see `CoordinatorHooks`). */
  private async hold(point: HoldPoint, round: number): Promise<void> {
    await this.deps.hooks?.hold?.(point, { jobId: this.id, round });
  }

  /** Routes a result message from a registered client to the phase or round waiting for it. */
  handle(client: RegisteredClient, message: FitRes | EvaluateRes | SecAggEnvelope): void {
    if (message.type === 'evaluate_res') this.evaluation.handle(client, message, this.deps.job.currentRound);
    else this.training.handle(client, message);
  }

  /** A client's answer to the initial-model request (`undefined`: it was refused as malformed). */
  onParameters(clientId: string, message: unknown): void {
    this.pendingParameters?.(clientId, message);
  }

  /** A client reported it could not do a task. */
  onClientError(clientId: string, jobId: string | undefined, round: number | undefined): void {
    this.pendingParameters?.(clientId, undefined);
    this.training.onClientError(clientId, jobId, round);
    this.evaluation.onClientError(clientId, jobId, round);
  }

  clientLeft(clientId: string): void {
    this.training.clientLeft(clientId);
    this.evaluation.clientLeft(clientId);
  }
}

/** The sampling generator of one round, derived from the job's seed. */
export function roundRng(seed: number, round: number): Rng {
  return createRng((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(round, 0x85ebca6b)) >>> 0);
}

/** A summary as stored: plain JSON (a NaN loss becomes null rather than failing the write). */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
