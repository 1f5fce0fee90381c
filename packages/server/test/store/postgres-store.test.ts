import { afterAll, describe, expect, it } from 'vitest';
import { type CoordinatorStore, MIGRATIONS, PostgresCoordinatorStore } from '../../src/store/index.js';
import { describeStoreContract } from './contract.js';
import { dropSchema, sql, TEST_DATABASE_URL, uniqueSchema } from './postgres.js';

function postgresHarness() {
  const schema = uniqueSchema();
  const open: CoordinatorStore[] = [];
  const connect = async (now: () => Date) => {
    const store = await PostgresCoordinatorStore.open({ connectionString: TEST_DATABASE_URL, schema, now });
    open.push(store);
    return store;
  };
  return {
    open: connect,
    async reopen(now: () => Date) {
      await Promise.all(open.splice(0).map((s) => s.close()));
      return connect(now);
    },
    peer: (_store: CoordinatorStore, now: () => Date) => connect(now),
    async corruptRound(jobId: string, round: number) {
      await sql(
        `UPDATE "${schema}".rounds SET participants = '"everyone"' WHERE job_id = $1 AND round = $2`,
        [jobId, round],
      );
    },
    async cleanup() {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await dropSchema(schema);
    },
  };
}

describeStoreContract('PostgreSQL', postgresHarness);

describe('PostgreSQL migrations', () => {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(schema));

  it('applies each migration once, even when several coordinators start together', async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () =>
        PostgresCoordinatorStore.open({ connectionString: TEST_DATABASE_URL, schema }),
      ),
    );
    const { rows } = await sql(`SELECT version, name FROM "${schema}".fedlearn_migrations ORDER BY version`);
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a schema migrated past what this coordinator knows', async () => {
    await sql(`INSERT INTO "${schema}".fedlearn_migrations (version, name) VALUES (999, 'from the future')`);
    await expect(
      PostgresCoordinatorStore.open({ connectionString: TEST_DATABASE_URL, schema }),
    ).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });

  it('reports an unreachable database as STORE_UNAVAILABLE without echoing the URL', async () => {
    const error = await PostgresCoordinatorStore.open({
      connectionString: 'postgres://postgres:secret-pw@127.0.0.1:1/test',
      schema: uniqueSchema(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(String((error as Error).message)).not.toContain('secret-pw');
  });
});
