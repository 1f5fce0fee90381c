import {
  type ClientEnrollment,
  clientEnrollmentSchema,
  type JobEvent,
  type JobRecord,
  jobEventSchema,
  jobRecordSchema,
  type RoundRecord,
  readBack,
  roundRecordSchema,
  type StrategyStateRecord,
  strategyStateRecordSchema,
} from './records.js';

/** Rows as `pg` returns them; every one goes through its record's schema on the way out. */
type Row = Record<string, unknown>;

function time(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : String(value);
}

function present<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined)) as T;
}

export function jobFromRow(row: Row): JobRecord {
  return readBack(
    jobRecordSchema,
    present({
      id: row.id,
      spec: row.spec,
      status: row.status,
      priority: row.priority,
      seq: typeof row.seq === 'string' ? Number(row.seq) : row.seq,
      createdAt: time(row.created_at),
      updatedAt: time(row.updated_at),
      startedAt: time(row.started_at),
      finishedAt: time(row.finished_at),
      lastCompletedRound: row.last_completed_round,
      error: row.error,
      idempotencyKey: row.idempotency_key,
      requestHash: row.request_hash,
      runId: row.run_id,
    }),
    'job',
  );
}

export function eventFromRow(row: Row): JobEvent {
  return readBack(
    jobEventSchema,
    { jobId: row.job_id, id: row.id, type: row.type, data: row.data, at: time(row.at) },
    'job event',
  );
}

export function roundFromRow(row: Row): RoundRecord {
  return readBack(
    roundRecordSchema,
    present({
      jobId: row.job_id,
      round: row.round,
      status: row.status,
      participants: row.participants,
      metrics: row.metrics,
      error: row.error,
      startedAt: time(row.started_at),
      finishedAt: time(row.finished_at),
      result: row.result,
    }),
    'round',
  );
}

export function strategyFromRow(row: Row): StrategyStateRecord {
  return readBack(
    strategyStateRecordSchema,
    { jobId: row.job_id, round: row.round, state: row.state, updatedAt: time(row.updated_at) },
    'strategy state',
  );
}

export function clientFromRow(row: Row): ClientEnrollment {
  return readBack(
    clientEnrollmentSchema,
    present({
      id: row.id,
      identityPublicKey: row.identity_public_key,
      secretHash: row.secret_hash,
      createdAt: time(row.created_at),
      revokedAt: time(row.revoked_at),
    }),
    'client enrollment',
  );
}
