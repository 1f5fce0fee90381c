import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoordinatorStore, type StoreConfigInput } from '../../src/store/index.js';
import { crashResult } from './crash-result.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from './postgres.js';

const work = mkdtempSync(join(tmpdir(), 'fedlearn-crash-'));
const childScript = join(work, 'crash-writer.mjs');

beforeAll(async () => {
  // The child runs the store's TypeScript as one bundled file: no loader needed in the child.
  await build({
    entryPoints: [fileURLToPath(new URL('./crash-writer.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: childScript,
    logLevel: 'error',
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** mulberry32: the seeded choice of kill points. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Acks {
  rounds: number;
  clients: Set<string>;
}

/** Runs the writer until `writes` more writes are acknowledged, then SIGKILLs it at once. */
function runAndKill(config: StoreConfigInput, writes: number, acks: Acks): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [childScript, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = 0;
    let buffered = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [, kind, n] = line.split(' ');
        if (kind === 'round') acks.rounds = Math.max(acks.rounds, Number(n));
        if (kind === 'client') acks.clients.add(`client-${n}`);
        if (kind && (seen += 1) === writes) child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL'
        ? resolve()
        : reject(new Error(`writer exited on its own: ${stderr.slice(0, 500)}`)),
    );
  });
}

const schema = uniqueSchema();
afterAll(() => dropSchema(schema));

describe.each([
  ['embedded', { dataDir: join(work, 'data'), compactEvery: 7 }],
  ['PostgreSQL', { databaseUrl: TEST_DATABASE_URL, schema }],
] as [string, StoreConfigInput][])('%s store', (_name, config) => {
  it('keeps every acknowledged write, and nothing corrupt, across SIGKILLs at seeded points', {
    timeout: 180_000,
  }, async () => {
    const random = seeded(11);
    const acks: Acks = { rounds: 0, clients: new Set() };
    for (let crash = 0; crash < 12; crash += 1) {
      await runAndKill(config, 1 + Math.floor(random() * 20), acks);
      const store = await createCoordinatorStore(config);
      const last = (await store.getJob('job-1'))?.lastCompletedRound ?? 0;
      // Acknowledged rounds are there; at most the one in flight got further than its ack.
      expect(last).toBeGreaterThanOrEqual(acks.rounds);
      expect(last).toBeLessThanOrEqual(acks.rounds + 1);
      const rounds = (await store.listRounds('job-1')).filter((r) => r.status === 'completed');
      expect(rounds.map((r) => r.round)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      for (const r of rounds) expect(r.result).toEqual(crashResult(r.round));
      expect((await store.getStrategyState('job-1'))?.state).toEqual(crashResult(last).strategyState);
      const clients = new Set((await store.listClients()).map((c) => c.id));
      expect([...acks.clients].filter((id) => !clients.has(id))).toEqual([]);
      await store.close();
      acks.rounds = last;
    }
    expect(acks.rounds).toBeGreaterThan(12);
  });
});
