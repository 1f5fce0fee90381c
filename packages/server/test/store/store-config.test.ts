import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCoordinatorStore,
  EmbeddedCoordinatorStore,
  PostgresCoordinatorStore,
  parseStoreConfig,
  storeConfigFromEnv,
} from '../../src/store/index.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from './postgres.js';

describe('createCoordinatorStore', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedlearn-data-'));
  const schema = uniqueSchema();
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('opens the embedded store under the data folder when DATABASE_URL is unset or empty', async () => {
    const store = await createCoordinatorStore(storeConfigFromEnv({ DATABASE_URL: '' }, dataDir));
    expect(store).toBeInstanceOf(EmbeddedCoordinatorStore);
    await store.createJob({ id: 'job-1', spec: {} });
    expect(readdirSync(join(dataDir, 'state')).sort()).toEqual(['lock', 'wal-0.log']);
    await store.close();
  });

  it('opens PostgreSQL when DATABASE_URL is set', async () => {
    const store = await createCoordinatorStore({
      ...storeConfigFromEnv({ DATABASE_URL: TEST_DATABASE_URL }, dataDir),
      schema,
    });
    expect(store).toBeInstanceOf(PostgresCoordinatorStore);
    await store.createJob({ id: 'job-1', spec: {} });
    expect((await store.listJobs()).map((j) => j.id)).toEqual(['job-1']);
    await store.close();
  });

  it('refuses a bad configuration with INVALID_CONFIG and does not echo the URL', () => {
    const bad = () => parseStoreConfig({ databaseUrl: 'mysql://root:hunter2@db/x' });
    expect(bad).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(bad).not.toThrow(/hunter2/);
    expect(() => parseStoreConfig({ schema: 'Robert"; DROP' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => parseStoreConfig({ dataDir: '.', extra: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
