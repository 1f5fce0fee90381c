import { FedlearnError } from '@fedlearn/core';
import type pg from 'pg';

/** Each migration runs once, in its own transaction, in order. Append; never edit a shipped one. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'coordinator state',
    sql: `
      CREATE TABLE jobs (
        id text PRIMARY KEY,
        seq bigserial NOT NULL,
        spec jsonb NOT NULL,
        status text NOT NULL,
        priority integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        last_completed_round integer NOT NULL DEFAULT 0,
        error jsonb
      );
      CREATE INDEX jobs_queue ON jobs (priority DESC, seq) WHERE status = 'queued';
      CREATE TABLE rounds (
        job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        round integer NOT NULL,
        status text NOT NULL,
        participants jsonb NOT NULL,
        metrics jsonb,
        error jsonb,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        result jsonb,
        PRIMARY KEY (job_id, round)
      );
      CREATE TABLE strategy_state (
        job_id text PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        round integer NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE TABLE clients (
        id text PRIMARY KEY,
        identity_public_key text NOT NULL,
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      );`,
  },
  {
    version: 2,
    name: 'idempotency keys, registry runs, job events',
    sql: `
      ALTER TABLE jobs ADD COLUMN idempotency_key text UNIQUE, ADD COLUMN request_hash text,
        ADD COLUMN run_id text;
      CREATE TABLE job_events (
        job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        id integer NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (job_id, id)
      );`,
  },
];

/**
 * Brings `schema` up to the newest migration. An advisory lock (per schema) makes two
 * coordinators starting together take turns: the second finds everything applied.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<number[]> {
  const client = await pool.connect();
  const lockKey = `fedlearn-migrations:${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.fedlearn_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>(
        `SELECT version FROM ${quoteIdent(schema)}.fedlearn_migrations`,
      );
      const applied = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...applied);
      const known = MIGRATIONS.at(-1)?.version ?? 0;
      if (newest > known) {
        throw new FedlearnError(
          'STORE_UNAVAILABLE',
          `the database schema is at migration ${newest}, newer than this coordinator knows (${known})`,
        );
      }
      const ran: number[] = [];
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
          await client.query(migration.sql);
          await client.query('INSERT INTO fedlearn_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
        ran.push(migration.version);
      }
      return ran;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } finally {
    client.release();
  }
}

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new FedlearnError('INVALID_CONFIG', 'schema: use a-z, 0-9 and _');
  return `"${name}"`;
}
