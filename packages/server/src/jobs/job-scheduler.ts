import { createHash, randomUUID } from 'node:crypto';
import {
  type Clock,
  FedlearnError,
  type ModelParams,
  type Strategy,
  strategyStateFromJson,
  toFedlearnError,
  unflattenParams,
  type WireError,
} from '@fedlearn/core';
import type { Logger } from 'pino';
import type { CheckpointWriter } from '../checkpoint.js';
import type { CoordinatorEvent, JobState, RoundSummary } from '../events.js';
import type { JobRunner, ResumePoint } from '../job-runner.js';
import { type JobSpec, type JobSpecInput, parseJobSpec } from '../job-spec.js';
import type { CoordinatorStore, JobRecord, JsonValue } from '../store/index.js';
import { canonicalJson } from '../store/records.js';

export interface JobSchedulerDeps {
  store: CoordinatorStore;
  checkpoints: CheckpointWriter;
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  makeStrategy: (spec: JobSpec) => Strategy;
  /** Builds the runner of a job (its strategy already restored when it resumes). */
  makeRunner: (job: JobState, strategy: Strategy, resume: ResumePoint | undefined) => JobRunner;
  emit: (event: CoordinatorEvent) => void;
}

export interface SubmitOptions {
  /** The same key returns the job it first made (see `CoordinatorStore.createJob`). */
  idempotencyKey?: string;
  /** Higher runs first among queued jobs (-1000..1000, default 0). */
  priority?: number;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/**
 * The job queue: jobs wait their turn (priority high to low, then submission order) and run one
 * at a time; pause, resume and cancel; on start, the job that was running when the coordinator
 * stopped resumes from its last completed round, then the queue goes on.
 */
export class JobScheduler {
  /** Every job this coordinator knows, as the API shows it. */
  readonly jobs = new Map<string, JobState>();
  /** Submission order, for the queue's tie-break. */
  private readonly seqs = new Map<string, number>();
  private runner: JobRunner | undefined;
  private running: Promise<void> | undefined;
  private pumping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: JobSchedulerDeps) {}

  /** Loads the stored jobs and starts the queue (resuming the job that was running). */
  async start(): Promise<void> {
    for (const record of await this.deps.store.listJobs()) {
      const job = await this.view(record);
      this.jobs.set(job.id, job);
    }
    this.pump();
  }

  get current(): JobRunner | undefined {
    return this.runner;
  }

  /** Queues a job; `created` is false when an idempotency key returned an earlier one. */
  async submit(
    input: JobSpecInput,
    options: SubmitOptions = {},
  ): Promise<{ job: JobState; created: boolean }> {
    const spec = parseJobSpec(input);
    const strategy = this.deps.makeStrategy(spec);
    if (spec.secagg.enabled && strategy.requiresIndividualUpdates) {
      throw new FedlearnError(
        'STRATEGY_INCOMPATIBLE',
        `strategy ${strategy.name} needs each client's update, which secure aggregation hides: use fedavg or disable secagg`,
        { details: { strategy: strategy.name } },
      );
    }
    const stored = JSON.parse(JSON.stringify(input)) as JsonValue;
    const id = `${spec.name}-${randomUUID().slice(0, 8)}`;
    const record = await this.deps.store.createJob({
      id,
      spec: stored,
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.idempotencyKey === undefined
        ? {}
        : {
            idempotencyKey: options.idempotencyKey,
            requestHash: requestHash(stored, options.priority ?? 0),
          }),
    });
    const known = this.jobs.get(record.id);
    if (known) return { job: known, created: false };
    // No await between the store's answer and the map: a concurrent duplicate finds this view.
    const job = this.viewOf(record, []);
    this.jobs.set(job.id, job);
    this.deps.emit({ type: 'job_status', job });
    this.pump();
    return { job, created: record.id === id };
  }

  /** A queued or paused job ends at once; a running one after abandoning its round. */
  async cancel(id: string): Promise<JobState> {
    const job = this.get(id);
    if (this.runner?.id === id) this.runner.cancel();
    else if (job.status === 'queued' || job.status === 'paused') await this.setStatus(job, 'cancelled');
    return job;
  }

  /** A running job stops after abandoning its round; a queued one leaves the queue. */
  async pause(id: string): Promise<JobState> {
    const job = this.get(id);
    if (this.runner?.id === id) this.runner.pause();
    else if (job.status === 'queued') await this.setStatus(job, 'paused');
    else if (job.status !== 'paused') throw notNow(job, 'pause');
    return job;
  }

  /** A paused job goes back to the queue, in its old place. */
  async resume(id: string): Promise<JobState> {
    const job = this.get(id);
    if (job.status === 'paused') {
      await this.setStatus(job, 'queued');
      this.pump();
    } else if (FINISHED.has(job.status)) throw notNow(job, 'resume');
    return job;
  }

  /** Queued jobs in the order they will run. */
  queue(): JobState[] {
    return [...this.jobs.values()]
      .filter((j) => j.status === 'queued')
      .sort((a, b) => b.priority - a.priority || (this.seqs.get(a.id) ?? 0) - (this.seqs.get(b.id) ?? 0));
  }

  get(id: string): JobState {
    const job = this.jobs.get(id);
    if (!job) throw new FedlearnError('JOB_NOT_FOUND', `no job ${id}`);
    return job;
  }

  /** Stops the running job without finishing it: it resumes when a coordinator starts again. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.runner?.shutdown();
    await this.running;
    await this.pumping;
  }

  private async setStatus(job: JobState, status: JobState['status']): Promise<void> {
    const record = await this.deps.store.setJobStatus(job.id, { status });
    job.status = status;
    if (record.finishedAt) job.finishedAt = record.finishedAt;
    this.deps.emit({ type: 'job_status', job });
    if (FINISHED.has(status)) this.deps.emit({ type: 'job_finished', job });
  }

  /** Starts the next job when none runs; serialised so two callers never start two jobs. */
  private pump(): void {
    this.pumping = this.pumping
      .then(() => this.startNext())
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error }, 'could not start the next job');
      });
  }

  private async startNext(): Promise<void> {
    if (this.runner || this.stopped) return;
    const stored = await this.deps.store.listJobs();
    // A job still `running` in the store was cut off by a crash: it goes first.
    const next = stored.find((r) => r.status === 'running') ?? (await this.deps.store.listQueue())[0];
    if (!next) return;
    const job = this.jobs.get(next.id) ?? (await this.view(next));
    this.jobs.set(job.id, job);
    let runner: JobRunner;
    try {
      const spec = job.spec;
      const strategy = this.deps.makeStrategy(spec);
      const resume = await this.resumePoint(next, strategy);
      runner = this.deps.makeRunner(job, strategy, resume);
      if (resume) this.deps.logger.info({ jobId: job.id, round: resume.round }, 'resuming job');
    } catch (error) {
      // A job that cannot be rebuilt (its checkpoint lost) fails instead of blocking the queue.
      const e = toFedlearnError(error);
      this.deps.logger.error({ jobId: job.id, code: e.code }, `cannot resume job: ${e.message}`);
      const record = await this.deps.store.setJobStatus(job.id, {
        status: 'failed',
        error: { code: e.code, message: e.message },
      });
      job.status = 'failed';
      job.error = e.toJSON();
      if (record.finishedAt) job.finishedAt = record.finishedAt;
      this.deps.emit({ type: 'job_finished', job });
      return this.startNext();
    }
    this.runner = runner;
    this.running = runner.run().finally(() => {
      this.runner = undefined;
      this.running = undefined;
      this.pump();
    });
  }

  /** The global model of a job's last completed round, from its checkpoint. */
  async storedModel(id: string): Promise<{ round: number; params: ModelParams } | undefined> {
    const record = await this.deps.store.getJob(id);
    if (!record || record.lastCompletedRound === 0) return undefined;
    const round = (await this.deps.store.listRounds(id)).find((r) => r.round === record.lastCompletedRound);
    if (!round?.result) return undefined;
    const model = await this.deps.checkpoints.loadModel(round.result.checkpoint, this.deps.maxPayloadBytes);
    return { round: round.round, params: unflattenParams(model.flat, model.specs) };
  }

  private async resumePoint(record: JobRecord, strategy: Strategy): Promise<ResumePoint | undefined> {
    if (record.lastCompletedRound === 0) return undefined;
    const rounds = await this.deps.store.listRounds(record.id);
    const last = rounds.find((r) => r.round === record.lastCompletedRound);
    if (!last?.result)
      throw new FedlearnError('STORE_CORRUPT', `job ${record.id} has no completed round record`);
    const state = await this.deps.store.getStrategyState(record.id);
    if (state) strategy.restore(strategyStateFromJson(state.state as never));
    const model = await this.deps.checkpoints.loadModel(last.result.checkpoint, this.deps.maxPayloadBytes);
    return { round: record.lastCompletedRound, model, checkpoint: last.result.checkpoint };
  }

  /** The API's view of a stored job: its spec parsed, its completed rounds' summaries. */
  private async view(record: JobRecord): Promise<JobState> {
    const rounds = (await this.deps.store.listRounds(record.id))
      .filter((r) => r.status === 'completed' && r.result)
      .map((r) => r.result?.metrics as unknown as RoundSummary);
    return this.viewOf(record, rounds);
  }

  private viewOf(record: JobRecord, rounds: RoundSummary[]): JobState {
    this.seqs.set(record.id, record.seq);
    return {
      id: record.id,
      spec: parseJobSpec(record.spec),
      status: record.status,
      priority: record.priority,
      createdAt: record.createdAt,
      ...(record.startedAt ? { startedAt: record.startedAt } : {}),
      ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
      ...(record.lastCompletedRound > 0 ? { currentRound: record.lastCompletedRound } : {}),
      rounds,
      ...(record.runId ? { runId: record.runId } : {}),
      ...(record.error ? { error: { ...record.error, details: {} } as WireError } : {}),
    };
  }
}

function requestHash(spec: JsonValue, priority: number): string {
  return createHash('sha256').update(canonicalJson({ spec, priority })).digest('hex');
}

function notNow(job: JobState, action: string): FedlearnError {
  return new FedlearnError('JOB_CONFLICT', `job ${job.id} is ${job.status}: it cannot ${action}`);
}
