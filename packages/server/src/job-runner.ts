import {
  type Clock,
  createRng,
  type DataFingerprint,
  type EvaluateRes,
  encodeParams,
  FedlearnError,
  type FitRes,
  float32ToBytes,
  type ModelParams,
  type Rng,
  type SecAggEnvelope,
  toFedlearnError,
  unflattenParams,
  weightSpecsFrom,
} from '@fedlearn/core';
import type { CheckpointWriter } from './checkpoint.js';
import type { ClientRegistry, RegisteredClient } from './client-registry.js';
import { refuseStale } from './connection.js';
import type { JobState, RoundSummary, ServerEvaluator } from './events.js';
import { initialModel } from './initial-model.js';
import { JobPrivacyAccount } from './job-privacy.js';
import type { ModelRecorder } from './model-recorder.js';
import { Phase } from './phase.js';
import { PlainRoundTraining } from './plain-round.js';
import type { GlobalModel, RoundTraining, TrainingDeps } from './round-training.js';
import { SecureRoundTraining } from './secure-round.js';

/** What a job needs: what its rounds need, plus where results go. */
export interface JobRunnerDeps extends Omit<TrainingDeps, 'jobId' | 'contributors'> {
  job: JobState;
  checkpoints: CheckpointWriter;
  evaluator: ServerEvaluator | undefined;
  recorder: ModelRecorder | undefined;
}

/** Runs one job: R rounds of sample → fit → aggregate → evaluate → checkpoint. */
export class JobRunner {
  private readonly rng: Rng;
  private model: GlobalModel | undefined;
  private evalPhase: Phase<EvaluateRes> | undefined;
  /** Plain or secure, chosen once for the whole job. */
  private readonly training: RoundTraining;
  private pendingParameters: ((clientId: string, message: unknown) => void) | undefined;
  private cancelled = false;
  /** Aborts whatever the job is waiting for (clients, the initial model) when it is cancelled. */
  private readonly abort = new AbortController();
  /** Data fingerprints of the clients whose updates shaped the model so far (lineage). */
  private readonly contributors = new Map<string, DataFingerprint>();
  /** ε spent so far; stops the job before a round that would exceed its privacy budget. */
  private readonly privacy: JobPrivacyAccount;

  constructor(private readonly deps: JobRunnerDeps) {
    this.rng = createRng(deps.spec.seed);
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
      emit: deps.emit,
    };
    this.training = deps.spec.secagg.enabled
      ? new SecureRoundTraining(trainingDeps)
      : new PlainRoundTraining(trainingDeps);
  }

  get id(): string {
    return this.deps.job.id;
  }

  async run(): Promise<void> {
    const { job, spec, emit } = this.deps;
    job.status = 'running';
    job.startedAt = new Date(this.deps.clock.now()).toISOString();
    emit({ type: 'job_started', job });
    try {
      this.model = await initialModel(
        this.deps,
        (handler) => {
          this.pendingParameters = handler;
        },
        this.abort.signal,
      );
      this.pendingParameters = undefined;
      await this.deps.recorder?.start(job, this.deps.clients.size);
      for (let round = 1; round <= spec.rounds && !this.cancelled; round++) {
        job.currentRound = round;
        const summary = await this.runRound(round);
        if (summary === undefined) break;
        await this.deps.recorder?.round(summary, this.artifacts(), this.contributors);
        job.rounds.push(summary);
        emit({ type: 'round_completed', job, summary, strategyState: this.deps.strategy.state() });
      }
      job.status = this.cancelled ? 'cancelled' : 'completed';
    } catch (error) {
      const e = toFedlearnError(error);
      if (this.cancelled) {
        job.status = 'cancelled';
        return;
      }
      job.status = 'failed';
      job.error = e.toJSON();
      this.deps.logger.error({ jobId: job.id, code: e.code }, `job failed: ${e.message}`);
    } finally {
      job.finishedAt = new Date(this.deps.clock.now()).toISOString();
      const privacy = this.privacy.summary();
      if (privacy) job.privacy = privacy;
      this.training.cancel();
      this.evalPhase?.close();
      await this.deps.recorder?.finish(job);
      emit({ type: 'job_finished', job });
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.abort.abort();
    this.training.cancel();
    this.evalPhase?.close();
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

  /** One round's summary, or undefined when the privacy budget ends the job before it. */
  private async runRound(round: number): Promise<RoundSummary | undefined> {
    const { spec, strategy, clock } = this.deps;
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
    const enough = await waitForClients(
      this.deps.clients,
      strategy.minAvailableClients,
      spec.clientWaitMs,
      clock,
      this.abort.signal,
    );
    if (!enough || this.cancelled) {
      return this.failRound(
        summary,
        started,
        new FedlearnError(
          'QUORUM_NOT_REACHED',
          `fewer than ${strategy.minAvailableClients} clients connected within ${spec.clientWaitMs} ms`,
        ),
      );
    }
    const eligible = this.training.eligible(this.deps.clients.ready());
    if (!this.privacy.allows(round, eligible.length)) {
      this.deps.logger.info({ jobId: this.id, round }, this.privacy.summary()?.stopped?.reason ?? '');
      return undefined;
    }
    const sampled = strategy.configureFit(round, eligible, this.rng);
    summary.sampled = sampled.length;
    this.deps.emit({ type: 'round_started', jobId: this.id, round, sampled });
    try {
      const { params, metrics } = await this.training.run({ round, sampled, global, summary });
      global.flat = params;
      summary.trainLoss = metrics.loss;
      summary.trainMetrics = metrics;
      this.privacy.record(summary, eligible.length);
    } catch (error) {
      return this.failRound(summary, started, toFedlearnError(error));
    }
    await this.evaluate(round, summary);
    const artifacts = this.artifacts();
    if (artifacts) summary.checkpoint = await this.deps.checkpoints.save(this.id, round, artifacts);
    summary.seconds = (clock.now() - started) / 1000;
    return summary;
  }

  private failRound(summary: RoundSummary, started: number, error: FedlearnError): RoundSummary {
    this.deps.logger.warn({ jobId: this.id, round: summary.round, code: error.code }, error.message);
    summary.status = 'failed';
    summary.error = error.toJSON();
    summary.seconds = (this.deps.clock.now() - started) / 1000;
    return summary;
  }

  private async evaluate(round: number, summary: RoundSummary): Promise<void> {
    const { spec, strategy, clock, evaluator } = this.deps;
    const model = this.model!;
    if (spec.federatedEvaluation) {
      const chosen = strategy.configureEvaluate(round, this.deps.clients.ready(), this.rng);
      const phase = new Phase<EvaluateRes>('evaluate', this.id, round, chosen, spec.evaluateTimeoutMs, clock);
      this.evalPhase = phase;
      const bytes = encodeParams(unflattenParams(model.flat, model.specs));
      for (const clientId of chosen) {
        const client = this.deps.clients.get(clientId);
        if (!client) {
          phase.drop(clientId);
          continue;
        }
        summary.bytesDown += client.connection.send({
          type: 'evaluate_ins',
          jobId: this.id,
          round,
          deadline: phase.deadline,
          config: { batchSize: spec.fit.batchSize },
          params: bytes,
        });
      }
      await phase.closed;
      this.evalPhase = undefined;
      const federated = strategy.aggregateEvaluate(
        round,
        [...phase.results].map(([clientId, r]) => ({
          clientId,
          numExamples: r.numExamples,
          loss: r.loss,
          metrics: r.metrics,
        })),
      );
      if (federated)
        summary.federated = {
          loss: federated.loss,
          numExamples: federated.numExamples,
          ...federated.metrics,
        };
    }
    if (evaluator) {
      const result = await evaluator(unflattenParams(model.flat, model.specs), round);
      summary.server = result;
    }
    const headline = summary.server ?? summary.federated;
    if (headline) {
      summary.loss = headline.loss;
      if (typeof headline.accuracy === 'number') summary.accuracy = headline.accuracy;
    }
  }

  /** Routes a result message from a registered client to the phase or round waiting for it. */
  handle(client: RegisteredClient, message: FitRes | EvaluateRes | SecAggEnvelope): void {
    if (message.type === 'evaluate_res') this.onEvaluateRes(client, message);
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
    const phase = this.evalPhase;
    if (phase?.isOpen && phase.jobId === jobId && phase.round === round && phase.pending.has(clientId)) {
      phase.fail(clientId);
    }
  }

  clientLeft(clientId: string): void {
    this.training.clientLeft(clientId);
    this.evalPhase?.drop(clientId);
  }

  private onEvaluateRes(client: RegisteredClient, message: EvaluateRes): void {
    const phase = this.evalPhase;
    const where = { jobId: message.jobId, round: message.round };
    if (!phase?.isOpen || phase.jobId !== message.jobId || phase.round !== message.round) {
      return refuseStale(
        client.connection,
        'evaluate_res',
        where,
        phase?.round ?? this.deps.job.currentRound,
      );
    }
    if (!phase.pending.has(client.info.clientId)) {
      return client.connection.refuse(
        new FedlearnError('NOT_SAMPLED', 'no evaluation is expected from this client'),
        'evaluate_res',
        where,
      );
    }
    phase.succeed(client.info.clientId, message);
  }
}

/** Resolves true once `count` clients are connected, false after `timeoutMs` or when `signal` aborts. */
export function waitForClients(
  clients: ClientRegistry,
  count: number,
  timeoutMs: number,
  clock: Clock,
  signal?: AbortSignal,
): Promise<boolean> {
  if (clients.size >= count) return Promise.resolve(true);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (value: boolean) => {
      clock.clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => finish(false);
    const timer = clock.setTimeout(() => finish(false), timeoutMs);
    const unsubscribe = clients.subscribe(() => {
      if (clients.size >= count) finish(true);
    });
    signal?.addEventListener('abort', onAbort);
  });
}
