import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Coordinator } from '@fedlearn/server';
import { transform } from 'esbuild';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

const README = resolve(import.meta.dirname, '../../../README.md');
const TOKEN = 'readme-client-token-0123456789';

/** The TypeScript block under "## Write your own client" in the README. */
function readmeClientSnippet(): string {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Write your own client'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README has no ts block under "Write your own client"');
  return match[1]!;
}

describe('the README’s "write your own client" example', () => {
  let coordinator: Coordinator | undefined;
  const scratch: string[] = [];
  afterAll(async () => {
    await coordinator?.stop();
    for (const path of scratch) rmSync(path, { force: true });
  });

  it('runs as written and trains a round', async () => {
    const snippet = readmeClientSnippet();
    expect(
      snippet.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//')).length,
    ).toBeLessThanOrEqual(25);
    coordinator = await Coordinator.start({
      port: 0,
      apiToken: 'readme-api-token-0123456789',
      clientToken: TOKEN,
      checkpointDir: mkdtempSync(join(tmpdir(), 'fedlearn-readme-')),
      logger: pino({ level: 'silent' }),
    });
    // The reader supplies their own data; the example talks to the default port, this test to its own.
    const data =
      'const myFeatures = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]];\nconst myLabels = [0, 1, 2];\n';
    const { code } = await transform(snippet.replace('http://127.0.0.1:8700', coordinator.url), {
      loader: 'ts',
      format: 'esm',
    });
    // Inside the cli package, so the example resolves @fedlearn/client-node and tfjs like a user's project would.
    const file = resolve(import.meta.dirname, `readme-client-${process.pid}.mjs`);
    scratch.push(file);
    writeFileSync(file, data + code);
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, FEDLEARN_CLIENT_TOKEN: TOKEN },
      stdio: 'inherit',
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const job = await coordinator.submitJob({
        name: 'iris',
        rounds: 1,
        strategy: { minFitClients: 1 },
        fit: { batchSize: 2 },
      });
      const done = await coordinator.waitForJob(job.id);
      expect(done.rounds[0]).toMatchObject({ status: 'ok', completed: 1 });
      expect(coordinator.clients.get('site-a')?.info.numExamples).toBe(3);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
