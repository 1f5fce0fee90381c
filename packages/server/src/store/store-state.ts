import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import type { JobStatusChange, NewEnrollment, NewJob } from './coordinator-store.js';
import {
  type ClientEnrollment,
  canonicalJson,
  clientEnrollmentSchema,
  type JobEvent,
  type JobRecord,
  type JsonValue,
  jobEventSchema,
  jobRecordSchema,
  type RoundRecord,
  type RoundResult,
  readBack,
  roundRecordSchema,
  type StrategyStateRecord,
  strategyStateRecordSchema,
} from './records.js';

/** One logged change. `at` is fixed when the change is made so replay gives the same records. */
export type StoreOp =
  | { t: 'createJob'; at: string; job: NewJob }
  | { t: 'setJobStatus'; at: string; id: string; change: JobStatusChange }
  | { t: 'setJobRunId'; at: string; id: string; runId: string }
  | { t: 'appendEvent'; at: string; jobId: string; type: string; data: JsonValue }
  | { t: 'startRound'; at: string; jobId: string; round: number; participants: string[] }
  | { t: 'failRound'; at: string; jobId: string; round: number; error: { code: string; message: string } }
  | { t: 'completeRound'; at: string; jobId: string; round: number; result: RoundResult }
  | { t: 'putStrategyState'; at: string; jobId: string; round: number; state: JsonValue }
  | { t: 'enrollClient'; at: string; enrollment: NewEnrollment }
  | { t: 'revokeClient'; at: string; id: string };

/** What an op returns, and whether it changed anything (a no-op is not logged). */
export interface OpOutcome {
  value: unknown;
  changed: boolean;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/** The job an idempotency key already made, when the request is the same; else `IDEMPOTENCY_KEY_REUSED`. */
export function sameRequest(job: JobRecord, requestHash: string | undefined): JobRecord {
  if ((job.requestHash ?? '') !== (requestHash ?? '')) {
    throw new FedlearnError(
      'IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was used for a different request; use a new key for a new job',
    );
  }
  return job;
}

/** The embedded store's whole state in memory; the log and snapshots are how it survives. */
export class StoreState {
  nextSeq = 0;
  readonly jobs = new Map<string, JobRecord>();
  readonly rounds = new Map<string, Map<number, RoundRecord>>();
  readonly strategy = new Map<string, StrategyStateRecord>();
  readonly clients = new Map<string, ClientEnrollment>();
  readonly events = new Map<string, JobEvent[]>();
  readonly idempotencyKeys = new Map<string, string>();

  /** Checks, then changes: an op that throws has changed nothing. */
  apply(op: StoreOp): OpOutcome {
    switch (op.t) {
      case 'createJob': {
        const keyed = op.job.idempotencyKey && this.idempotencyKeys.get(op.job.idempotencyKey);
        if (keyed) return { value: sameRequest(this.job(keyed), op.job.requestHash), changed: false };
        if (this.jobs.has(op.job.id)) throw new FedlearnError('JOB_CONFLICT', 'a job with this id exists');
        const job: JobRecord = {
          id: op.job.id,
          spec: op.job.spec,
          status: 'queued',
          priority: op.job.priority ?? 0,
          seq: this.nextSeq,
          createdAt: op.at,
          updatedAt: op.at,
          lastCompletedRound: 0,
          ...(op.job.idempotencyKey
            ? { idempotencyKey: op.job.idempotencyKey, requestHash: op.job.requestHash ?? '' }
            : {}),
        };
        this.nextSeq += 1;
        this.jobs.set(job.id, job);
        if (job.idempotencyKey) this.idempotencyKeys.set(job.idempotencyKey, job.id);
        this.rounds.set(job.id, new Map());
        return { value: job, changed: true };
      }
      case 'setJobStatus': {
        const job = this.job(op.id);
        const next: JobRecord = { ...job, status: op.change.status, updatedAt: op.at };
        if (op.change.status === 'running' && !job.startedAt) next.startedAt = op.at;
        if (FINISHED.has(op.change.status)) next.finishedAt = op.at;
        if (op.change.error) next.error = op.change.error;
        this.jobs.set(job.id, next);
        return { value: next, changed: true };
      }
      case 'setJobRunId': {
        const next: JobRecord = { ...this.job(op.id), runId: op.runId, updatedAt: op.at };
        this.jobs.set(op.id, next);
        return { value: next, changed: true };
      }
      case 'appendEvent': {
        this.job(op.jobId);
        const events = this.events.get(op.jobId) ?? [];
        const event: JobEvent = {
          jobId: op.jobId,
          id: (events.at(-1)?.id ?? 0) + 1,
          type: op.type,
          data: op.data,
          at: op.at,
        };
        events.push(event);
        this.events.set(op.jobId, events);
        return { value: event, changed: true };
      }
      case 'startRound': {
        const rounds = this.roundsOf(op.jobId);
        if (rounds.get(op.round)?.status === 'completed') {
          throw new FedlearnError('ROUND_ALREADY_COMPLETED', `round ${op.round} is completed already`);
        }
        const record: RoundRecord = {
          jobId: op.jobId,
          round: op.round,
          status: 'running',
          participants: op.participants,
          startedAt: op.at,
        };
        rounds.set(op.round, record);
        return { value: record, changed: true };
      }
      case 'failRound': {
        const current = this.roundsOf(op.jobId).get(op.round);
        if (!current) throw new FedlearnError('INVALID_ARGUMENT', `round ${op.round} was not started`);
        if (current.status === 'completed') {
          throw new FedlearnError('ROUND_ALREADY_COMPLETED', `round ${op.round} is completed already`);
        }
        const record: RoundRecord = { ...current, status: 'failed', error: op.error, finishedAt: op.at };
        this.roundsOf(op.jobId).set(op.round, record);
        return { value: record, changed: true };
      }
      case 'completeRound':
        return this.completeRound(op);
      case 'putStrategyState': {
        this.job(op.jobId);
        const record = { jobId: op.jobId, round: op.round, state: op.state, updatedAt: op.at };
        this.strategy.set(op.jobId, record);
        return { value: undefined, changed: true };
      }
      case 'enrollClient': {
        if (this.clients.has(op.enrollment.id)) {
          throw new FedlearnError('DUPLICATE_CLIENT', 'a client with this id is enrolled already');
        }
        const record: ClientEnrollment = { ...op.enrollment, createdAt: op.at };
        this.clients.set(record.id, record);
        return { value: record, changed: true };
      }
      case 'revokeClient': {
        const client = this.clients.get(op.id);
        if (!client) throw new FedlearnError('UNKNOWN_CLIENT', 'no client with this id is enrolled');
        if (client.revokedAt) return { value: client, changed: false };
        const record = { ...client, revokedAt: op.at };
        this.clients.set(op.id, record);
        return { value: record, changed: true };
      }
      default:
        throw new FedlearnError('STORE_CORRUPT', 'unknown change in the log');
    }
  }

  private completeRound(op: Extract<StoreOp, { t: 'completeRound' }>): OpOutcome {
    const job = this.job(op.jobId);
    const rounds = this.roundsOf(op.jobId);
    const current = rounds.get(op.round);
    if (current?.status === 'completed') {
      if (canonicalJson(current.result) === canonicalJson(op.result))
        return { value: current, changed: false };
      throw new FedlearnError(
        'ROUND_ALREADY_COMPLETED',
        `round ${op.round} is completed with another result`,
      );
    }
    if (op.round !== job.lastCompletedRound + 1) {
      throw new FedlearnError(
        'INVALID_ARGUMENT',
        `round ${op.round} cannot complete: the last completed round is ${job.lastCompletedRound}`,
      );
    }
    const record: RoundRecord = {
      jobId: op.jobId,
      round: op.round,
      status: 'completed',
      participants: op.result.participants,
      metrics: op.result.metrics,
      startedAt: current?.startedAt ?? op.at,
      finishedAt: op.at,
      result: op.result,
    };
    rounds.set(op.round, record);
    this.jobs.set(job.id, { ...job, lastCompletedRound: op.round, updatedAt: op.at });
    if (op.result.strategyState !== undefined) {
      this.strategy.set(job.id, {
        jobId: job.id,
        round: op.round,
        state: op.result.strategyState,
        updatedAt: op.at,
      });
    }
    return { value: record, changed: true };
  }

  job(id: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job) throw new FedlearnError('JOB_NOT_FOUND', 'no job with this id');
    return job;
  }

  roundsOf(jobId: string): Map<number, RoundRecord> {
    this.job(jobId);
    return this.rounds.get(jobId) ?? new Map();
  }

  toSnapshot(): Snapshot {
    return {
      nextSeq: this.nextSeq,
      jobs: [...this.jobs.values()],
      rounds: [...this.rounds.values()].flatMap((m) => [...m.values()]),
      strategy: [...this.strategy.values()],
      clients: [...this.clients.values()],
      events: [...this.events.values()].flat(),
    };
  }

  static fromSnapshot(raw: unknown): StoreState {
    const snapshot = readBack(snapshotSchema, raw, 'snapshot');
    const state = new StoreState();
    state.nextSeq = snapshot.nextSeq;
    for (const job of snapshot.jobs) {
      state.jobs.set(job.id, job);
      state.rounds.set(job.id, new Map());
      if (job.idempotencyKey) state.idempotencyKeys.set(job.idempotencyKey, job.id);
    }
    for (const event of snapshot.events ?? []) {
      if (!state.jobs.has(event.jobId)) {
        throw new FedlearnError('STORE_CORRUPT', 'stored snapshot has an event of an unknown job');
      }
      state.events.set(event.jobId, [...(state.events.get(event.jobId) ?? []), event]);
    }
    for (const round of snapshot.rounds) {
      const rounds = state.rounds.get(round.jobId);
      if (!rounds) throw new FedlearnError('STORE_CORRUPT', 'stored snapshot has a round of an unknown job');
      rounds.set(round.round, round);
    }
    for (const s of snapshot.strategy) state.strategy.set(s.jobId, s);
    for (const c of snapshot.clients) state.clients.set(c.id, c);
    return state;
  }
}

const snapshotSchema = z.object({
  nextSeq: z.number().int().nonnegative(),
  jobs: z.array(jobRecordSchema),
  rounds: z.array(roundRecordSchema),
  strategy: z.array(strategyStateRecordSchema),
  clients: z.array(clientEnrollmentSchema),
  events: z.array(jobEventSchema).optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
