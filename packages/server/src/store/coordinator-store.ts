import type {
  ClientEnrollment,
  JobEvent,
  JobRecord,
  JsonValue,
  RoundRecord,
  RoundResult,
  StoredJobStatus,
  StrategyStateRecord,
} from './records.js';

export interface NewJob {
  id: string;
  spec: JsonValue;
  priority?: number;
  /**
   * With a key, creating a job is idempotent: a key seen before returns that job unchanged when
   * `requestHash` matches, and is `IDEMPOTENCY_KEY_REUSED` when it does not.
   */
  idempotencyKey?: string;
  requestHash?: string;
}

export interface JobStatusChange {
  status: StoredJobStatus;
  error?: { code: string; message: string };
}

export interface NewEnrollment {
  id: string;
  identityPublicKey: string;
  secretHash: string;
}

/**
 * The coordinator's durable state. Every write is durable when its promise resolves; every read
 * is validated, and a record that does not validate is a `STORE_CORRUPT` error, never a default.
 *
 * @example
 * const store = await createCoordinatorStore({ dataDir: '.fedlearn' });
 * await store.createJob({ id: 'job-1', spec });
 * await store.startRound('job-1', 1, ['a', 'b']);
 * await store.completeRound('job-1', 1, { participants: ['a', 'b'], metrics: {}, checkpoint });
 */
export interface CoordinatorStore {
  /** `JOB_CONFLICT` when the id exists; with an idempotency key seen before, that key's job (see `NewJob`). */
  createJob(job: NewJob): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /** All jobs, oldest first. */
  listJobs(): Promise<JobRecord[]>;
  /** Queued jobs in the order they will run: priority high to low, then submission order. */
  listQueue(): Promise<JobRecord[]>;
  /** Sets `startedAt` on the first `running`, `finishedAt` on completed/failed/cancelled. */
  setJobStatus(id: string, change: JobStatusChange): Promise<JobRecord>;
  /** Remembers the registry run of a job, so a resumed job keeps logging there. */
  setJobRunId(id: string, runId: string): Promise<JobRecord>;

  /** Appends to a job's progress feed; the event's id is the previous one plus 1. */
  appendEvent(jobId: string, event: { type: string; data: JsonValue }): Promise<JobEvent>;
  /** A job's events with an id greater than `afterId`, oldest first. */
  listEvents(jobId: string, afterId?: number): Promise<JobEvent[]>;

  /** Records a round in flight; restarting a round that was in flight or failed replaces it. */
  startRound(jobId: string, round: number, participants: string[]): Promise<RoundRecord>;
  failRound(jobId: string, round: number, error: { code: string; message: string }): Promise<RoundRecord>;
  /**
   * Records a completed round, its checkpoint and strategy state, and moves the job's
   * `lastCompletedRound`, all at once. The same result again is a no-op; a different result for a
   * completed round is `ROUND_ALREADY_COMPLETED`; a round other than `lastCompletedRound + 1` is
   * `INVALID_ARGUMENT`.
   */
  completeRound(jobId: string, round: number, result: RoundResult): Promise<RoundRecord>;
  listRounds(jobId: string): Promise<RoundRecord[]>;

  /** Saves strategy state outside a round completion (e.g. the initial state). */
  putStrategyState(jobId: string, round: number, state: JsonValue): Promise<void>;
  getStrategyState(jobId: string): Promise<StrategyStateRecord | undefined>;

  /** `DUPLICATE_CLIENT` when the id is enrolled already (revoked or not). */
  enrollClient(enrollment: NewEnrollment): Promise<ClientEnrollment>;
  getClient(id: string): Promise<ClientEnrollment | undefined>;
  listClients(): Promise<ClientEnrollment[]>;
  /** Idempotent: revoking a revoked client keeps the first revocation time. */
  revokeClient(id: string): Promise<ClientEnrollment>;

  close(): Promise<void>;
}
