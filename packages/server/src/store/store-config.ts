import { join } from 'node:path';
import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import type { CoordinatorStore } from './coordinator-store.js';
import { EmbeddedCoordinatorStore } from './embedded-store.js';
import { SCHEMA_NAME } from './postgres-migrations.js';
import { PostgresCoordinatorStore } from './postgres-store.js';
import { describeIssues } from './records.js';

/** Where the coordinator keeps its state: PostgreSQL when `databaseUrl` is set, else a folder. */
export const storeConfigSchema = z
  .object({
    /** `postgres://…` (from `DATABASE_URL`); unset means the embedded store. */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /** The coordinator's data folder; the embedded store lives in `<dataDir>/state`. */
    dataDir: z.string().min(1).default('.fedlearn'),
    /** PostgreSQL schema holding the tables. */
    schema: z.string().regex(SCHEMA_NAME, 'use a-z, 0-9 and _').default('fedlearn'),
    /** Embedded store: log records between snapshots. */
    compactEvery: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict();

export type StoreConfig = z.infer<typeof storeConfigSchema>;
export type StoreConfigInput = z.input<typeof storeConfigSchema>;

export function parseStoreConfig(input: unknown): StoreConfig {
  const result = storeConfigSchema.safeParse(input);
  if (!result.success) {
    // The URL may hold a password: name the field, never echo the value.
    throw new FedlearnError('INVALID_CONFIG', `invalid store configuration: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** Reads the store's settings from the environment (`DATABASE_URL`); an empty value counts as unset. */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv, dataDir?: string): StoreConfigInput {
  return {
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(dataDir === undefined ? {} : { dataDir }),
  };
}

/**
 * Opens the store the configuration names.
 *
 * @example
 * const store = await createCoordinatorStore(storeConfigFromEnv(process.env, '.fedlearn'));
 */
export async function createCoordinatorStore(
  input: StoreConfigInput,
  options: { now?: () => Date } = {},
): Promise<CoordinatorStore> {
  const config = parseStoreConfig(input);
  if (config.databaseUrl) {
    return PostgresCoordinatorStore.open({
      connectionString: config.databaseUrl,
      schema: config.schema,
      ...options,
    });
  }
  return EmbeddedCoordinatorStore.open({
    dir: join(config.dataDir, 'state'),
    compactEvery: config.compactEvery,
    ...options,
  });
}
