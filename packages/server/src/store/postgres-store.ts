import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import pg from 'pg';
import type { CoordinatorStore, JobStatusChange, NewEnrollment, NewJob } from './coordinator-store.js';
import { migrate, quoteIdent } from './postgres-migrations.js';
import { clientFromRow, eventFromRow, jobFromRow, roundFromRow, strategyFromRow } from './postgres-rows.js';
import { canonicalJson, type JsonValue, type RoundResult, roundResultSchema, validInput } from './records.js';
import {
  jobStatusChangeSchema,
  newEnrollmentSchema,
  newEventSchema,
  newJobSchema,
  roundErrorSchema,
  roundStartSchema,
  runIdSchema,
} from './store-input.js';
import { sameRequest } from './store-state.js';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Tables live in this schema (created if missing). */
  schema?: string;
  poolSize?: number;
  now?: () => Date;
}

type Query = (text: string, values?: unknown[]) => Promise<pg.QueryResult<Record<string, unknown>>>;
const FINISHED = ['completed', 'failed', 'cancelled'];

/** The production store: the same contract as the embedded one, in PostgreSQL with versioned migrations. */
export class PostgresCoordinatorStore implements CoordinatorStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  static async open(options: PostgresStoreOptions): Promise<PostgresCoordinatorStore> {
    const schema = options.schema ?? 'fedlearn';
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 5,
      options: `-c search_path=${quoteIdent(schema)}`,
    });
    // An idle client losing its connection must not crash the coordinator; the next query reports it.
    pool.on('error', () => undefined);
    try {
      await migrate(pool, schema);
    } catch (error) {
      await pool.end();
      throw storeError(error);
    }
    return new PostgresCoordinatorStore(pool, options.now ?? (() => new Date()));
  }

  async createJob(job: NewJob) {
    const input = validInput(newJobSchema, job, 'job');
    const at = this.at();
    const key = input.idempotencyKey ?? null;
    // Without a conflict target, a duplicate id or idempotency key both end in DO NOTHING.
    const { rows } = await this.query(
      `INSERT INTO jobs (id, spec, status, priority, created_at, updated_at, idempotency_key, request_hash)
       VALUES ($1, $2, 'queued', $3, $4, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *`,
      [
        input.id,
        JSON.stringify(input.spec),
        input.priority ?? 0,
        at,
        key,
        key ? (input.requestHash ?? '') : null,
      ],
    );
    if (rows[0]) return jobFromRow(rows[0]);
    if (key) {
      const existing = await this.query('SELECT * FROM jobs WHERE idempotency_key = $1', [key]);
      if (existing.rows[0]) return sameRequest(jobFromRow(existing.rows[0]), input.requestHash);
    }
    throw new FedlearnError('JOB_CONFLICT', 'a job with this id exists');
  }
  async getJob(id: string) {
    const { rows } = await this.query('SELECT * FROM jobs WHERE id = $1', [id]);
    return rows[0] ? jobFromRow(rows[0]) : undefined;
  }
  async listJobs() {
    return (await this.query('SELECT * FROM jobs ORDER BY seq')).rows.map(jobFromRow);
  }
  async listQueue() {
    const { rows } = await this.query(
      "SELECT * FROM jobs WHERE status = 'queued' ORDER BY priority DESC, seq",
    );
    return rows.map(jobFromRow);
  }
  async setJobStatus(id: string, change: JobStatusChange) {
    const input = validInput(jobStatusChangeSchema, change, 'job status');
    const { rows } = await this.query(
      `UPDATE jobs SET status = $2, updated_at = $3,
         started_at = CASE WHEN $2 = 'running' THEN COALESCE(started_at, $3) ELSE started_at END,
         finished_at = CASE WHEN $2 = ANY($4::text[]) THEN $3 ELSE finished_at END,
         error = COALESCE($5::jsonb, error)
       WHERE id = $1 RETURNING *`,
      [id, input.status, this.at(), FINISHED, input.error ? JSON.stringify(input.error) : null],
    );
    if (!rows[0]) throw new FedlearnError('JOB_NOT_FOUND', 'no job with this id');
    return jobFromRow(rows[0]);
  }

  async setJobRunId(id: string, runId: string) {
    validInput(runIdSchema, runId, 'run id');
    const { rows } = await this.query(
      'UPDATE jobs SET run_id = $2, updated_at = $3 WHERE id = $1 RETURNING *',
      [id, runId, this.at()],
    );
    if (!rows[0]) throw new FedlearnError('JOB_NOT_FOUND', 'no job with this id');
    return jobFromRow(rows[0]);
  }
  async appendEvent(jobId: string, event: { type: string; data: JsonValue }) {
    const input = validInput(newEventSchema, event, 'event');
    return this.transaction(async (query) => {
      await lockJob(query, jobId);
      const { rows } = await query(
        `INSERT INTO job_events (job_id, id, type, data, at)
         SELECT $1, COALESCE(MAX(id), 0) + 1, $2, $3, $4 FROM job_events WHERE job_id = $1 RETURNING *`,
        [jobId, input.type, JSON.stringify(input.data), this.at()],
      );
      return eventFromRow(rows[0] as Record<string, unknown>);
    });
  }
  async listEvents(jobId: string, afterId = 0) {
    await this.requireJob(jobId);
    const { rows } = await this.query('SELECT * FROM job_events WHERE job_id = $1 AND id > $2 ORDER BY id', [
      jobId,
      afterId,
    ]);
    return rows.map(eventFromRow);
  }
  async startRound(jobId: string, round: number, participants: string[]) {
    validInput(roundStartSchema, { round, participants }, 'round');
    return this.transaction(async (query) => {
      await lockJob(query, jobId);
      await refuseCompleted(query, jobId, round);
      const { rows } = await query(
        `INSERT INTO rounds (job_id, round, status, participants, started_at) VALUES ($1, $2, 'running', $3, $4)
         ON CONFLICT (job_id, round) DO UPDATE SET status = 'running', participants = $3, started_at = $4,
           finished_at = NULL, error = NULL, metrics = NULL, result = NULL
         RETURNING *`,
        [jobId, round, JSON.stringify(participants), this.at()],
      );
      return roundFromRow(rows[0] as Record<string, unknown>);
    });
  }
  async failRound(jobId: string, round: number, error: { code: string; message: string }) {
    const input = validInput(roundErrorSchema, error, 'round error');
    return this.transaction(async (query) => {
      await lockJob(query, jobId);
      await refuseCompleted(query, jobId, round);
      const { rows } = await query(
        `UPDATE rounds SET status = 'failed', error = $3, finished_at = $4
         WHERE job_id = $1 AND round = $2 RETURNING *`,
        [jobId, round, JSON.stringify(input), this.at()],
      );
      if (!rows[0]) throw new FedlearnError('INVALID_ARGUMENT', `round ${round} was not started`);
      return roundFromRow(rows[0]);
    });
  }
  async completeRound(jobId: string, round: number, result: RoundResult) {
    const input = validInput(roundResultSchema, result, 'round result');
    return this.transaction(async (query) => {
      const job = await lockJob(query, jobId);
      const existing = await query('SELECT * FROM rounds WHERE job_id = $1 AND round = $2', [jobId, round]);
      const current = existing.rows[0] ? roundFromRow(existing.rows[0]) : undefined;
      if (current?.status === 'completed') {
        if (canonicalJson(current.result) === canonicalJson(input)) return current;
        throw new FedlearnError('ROUND_ALREADY_COMPLETED', `round ${round} is completed with another result`);
      }
      if (round !== job.lastCompletedRound + 1) {
        throw new FedlearnError(
          'INVALID_ARGUMENT',
          `round ${round} cannot complete: the last completed round is ${job.lastCompletedRound}`,
        );
      }
      const at = this.at();
      const { rows } = await query(
        `INSERT INTO rounds (job_id, round, status, participants, metrics, started_at, finished_at, result)
         VALUES ($1, $2, 'completed', $3, $4, $5, $5, $6)
         ON CONFLICT (job_id, round) DO UPDATE SET status = 'completed', participants = $3, metrics = $4,
           finished_at = $5, result = $6, error = NULL
         RETURNING *`,
        [
          jobId,
          round,
          JSON.stringify(input.participants),
          JSON.stringify(input.metrics),
          at,
          JSON.stringify(input),
        ],
      );
      await query('UPDATE jobs SET last_completed_round = $2, updated_at = $3 WHERE id = $1', [
        jobId,
        round,
        at,
      ]);
      if (input.strategyState !== undefined)
        await upsertStrategy(query, jobId, round, input.strategyState, at);
      return roundFromRow(rows[0] as Record<string, unknown>);
    });
  }
  async listRounds(jobId: string) {
    await this.requireJob(jobId);
    const { rows } = await this.query('SELECT * FROM rounds WHERE job_id = $1 ORDER BY round', [jobId]);
    return rows.map(roundFromRow);
  }

  async putStrategyState(jobId: string, round: number, state: JsonValue) {
    validInput(roundResultSchema.shape.strategyState, state, 'strategy state');
    await this.transaction(async (query) => {
      await lockJob(query, jobId);
      await upsertStrategy(query, jobId, round, state, this.at());
    });
  }
  async getStrategyState(jobId: string) {
    const { rows } = await this.query('SELECT * FROM strategy_state WHERE job_id = $1', [jobId]);
    return rows[0] ? strategyFromRow(rows[0]) : undefined;
  }

  async enrollClient(enrollment: NewEnrollment) {
    const input = validInput(newEnrollmentSchema, enrollment, 'enrollment');
    const { rows } = await this.query(
      `INSERT INTO clients (id, identity_public_key, secret_hash, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING *`,
      [input.id, input.identityPublicKey, input.secretHash, this.at()],
    );
    if (!rows[0]) throw new FedlearnError('DUPLICATE_CLIENT', 'a client with this id is enrolled already');
    return clientFromRow(rows[0]);
  }
  async getClient(id: string) {
    const { rows } = await this.query('SELECT * FROM clients WHERE id = $1', [id]);
    return rows[0] ? clientFromRow(rows[0]) : undefined;
  }
  async listClients() {
    return (await this.query('SELECT * FROM clients ORDER BY created_at, id')).rows.map(clientFromRow);
  }
  async revokeClient(id: string) {
    const { rows } = await this.query(
      'UPDATE clients SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *',
      [id, this.at()],
    );
    if (!rows[0]) throw new FedlearnError('UNKNOWN_CLIENT', 'no client with this id is enrolled');
    return clientFromRow(rows[0]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private at(): string {
    return this.now().toISOString();
  }

  private async requireJob(id: string): Promise<void> {
    if (!(await this.getJob(id))) throw new FedlearnError('JOB_NOT_FOUND', 'no job with this id');
  }

  private async query(text: string, values?: unknown[]) {
    try {
      return await this.pool.query<Record<string, unknown>>(text, values);
    } catch (error) {
      throw storeError(error);
    }
  }

  private async transaction<T>(work: (query: Query) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => Promise.reject(storeError(error)));
    const query: Query = (text, values) => client.query<Record<string, unknown>>(text, values);
    try {
      await query('BEGIN');
      const value = await work(query);
      await query('COMMIT');
      return value;
    } catch (error) {
      await query('ROLLBACK').catch(() => undefined);
      throw storeError(error);
    } finally {
      client.release();
    }
  }
}

async function lockJob(query: Query, jobId: string) {
  const { rows } = await query('SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [jobId]);
  if (!rows[0]) throw new FedlearnError('JOB_NOT_FOUND', 'no job with this id');
  return jobFromRow(rows[0]);
}

async function refuseCompleted(query: Query, jobId: string, round: number): Promise<void> {
  const { rows } = await query('SELECT status FROM rounds WHERE job_id = $1 AND round = $2', [jobId, round]);
  if (rows[0]?.status === 'completed') {
    throw new FedlearnError('ROUND_ALREADY_COMPLETED', `round ${round} is completed already`);
  }
}

async function upsertStrategy(query: Query, jobId: string, round: number, state: JsonValue, at: string) {
  await query(
    `INSERT INTO strategy_state (job_id, round, state, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (job_id) DO UPDATE SET round = $2, state = $3, updated_at = $4`,
    [jobId, round, JSON.stringify(state), at],
  );
}

/** Our own errors pass through; the database's become `STORE_UNAVAILABLE` (its text is not echoed). */
function storeError(error: unknown): FedlearnError {
  if (isFedlearnError(error)) return error;
  const code = (error as { code?: unknown }).code;
  return new FedlearnError('STORE_UNAVAILABLE', `the database cannot be used (${String(code ?? 'error')})`, {
    cause: error,
  });
}
