import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeParams } from '@fedlearn/core';
import { Coordinator } from '@fedlearn/server';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runStatusCommand } from './status.js';

const API_TOKEN = 'status-test-api-token-0123456789';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function run(args: string[], env: Record<string, string | undefined>) {
  let stdout = '';
  const code = await runStatusCommand(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: () => undefined,
    env,
    cwd: process.cwd(),
  });
  return { code, stdout };
}

describe('fedlearn status', () => {
  it('shows the clients, the running job and the queue from the control API', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fedlearn-status-'));
    const coordinator = await Coordinator.start({
      port: 0,
      apiToken: API_TOKEN,
      clientToken: 'status-test-client-token-0123456789',
      checkpointDir: join(home, 'checkpoints'),
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(async () => {
      await coordinator.stop();
      await rm(home, { recursive: true, force: true });
    });
    const initial = Buffer.from(encodeParams([{ name: 'w', shape: [1], values: Float32Array.from([0]) }]));
    const spec = { rounds: 3, clientWaitMs: 3_600_000, model: { params: initial.toString('base64') } };
    const running = await coordinator.submitJob({ ...spec, name: 'first' });
    const queued = await coordinator.submitJob({ ...spec, name: 'second' });
    const env = { FEDLEARN_API_TOKEN: API_TOKEN };

    const { code, stdout } = await run(['--url', coordinator.url], env);
    expect(code).toBe(0);
    expect(stdout).toContain('0 client(s) connected');
    expect(stdout).toMatch(new RegExp(`${running.id}\\s+running\\s+round 0/3`));
    expect(stdout).toMatch(new RegExp(`${queued.id}\\s+queued\\s+round 0/3, queue position 1`));

    const json = JSON.parse(
      (await run(['--url', coordinator.url, '--job', queued.id, '--json'], env)).stdout,
    );
    expect(json).toMatchObject({ id: queued.id, status: 'queued', queuePosition: 1 });

    await expect(
      run(['--url', coordinator.url], { FEDLEARN_API_TOKEN: 'wrong-token-wrong-token' }),
    ).rejects.toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    await expect(run(['--url', coordinator.url, '--job', 'nope'], env)).rejects.toThrow(
      expect.objectContaining({ code: 'JOB_NOT_FOUND' }),
    );
  });
});
