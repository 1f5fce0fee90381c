import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32ToBytes } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { startMlflowStandIn } from '@fedlearn/registry/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runModelsCommand } from './models.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fedlearn-cli-models-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const artifacts = {
  modelTopology: {
    class_name: 'Sequential',
    config: {
      layers: [{ class_name: 'Dense', config: { name: 'dense', units: 1, batch_input_shape: [null, 2] } }],
    },
  },
  weightSpecs: [{ name: 'dense/kernel', shape: [2, 1], dtype: 'float32' as const }],
  weightData: float32ToBytes(Float32Array.from([0.5, -0.5])),
};

async function seed(env: Record<string, string> = {}): Promise<void> {
  const lifecycle = createModelLifecycle(resolveLifecycleConfig(env, { home }));
  const run = await lifecycle.startRun({
    jobId: 'j1',
    modelName: 'mnist',
    strategy: 'fedavg',
    rounds: 2,
    clients: 3,
    secureAggregation: false,
  });
  await run.registerVersion(artifacts, { round: 1, metrics: { accuracy: 0.81 } });
  await run.registerVersion(artifacts, { round: 2, metrics: { accuracy: 0.79 } });
  await run.finish();
  await lifecycle.close();
}

async function cli(
  args: string[],
  env: Record<string, string | undefined> = { FEDLEARN_HOME: home, USER: 'alice' },
) {
  let out = '';
  let err = '';
  const code = await runModelsCommand(args, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env,
    cwd: home,
  });
  return { code, out, err };
}

describe('fedlearn models', () => {
  it('lists versions as a table with aliases and accuracy', async () => {
    await seed();
    const { code, out } = await cli(['list']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+VERSION\s+ALIASES\s+ACCURACY\s+CREATED$/);
    expect(lines[1]).toMatch(/^mnist\s+1\s+champion\s+0\.81\s+\d{4}-/);
    expect(lines[2]).toMatch(/^mnist\s+2\s+challenger\s+0\.79\s+/);
  });

  it('finds the registry through --home and prints JSON', async () => {
    await seed();
    const { code, out } = await cli(['list', 'mnist', '--home', home, '--json'], {});
    expect(code).toBe(0);
    expect(JSON.parse(out).map((v: { version: number }) => v.version)).toEqual([1, 2]);
  });

  it('shows the champion by default, or a given version or alias', async () => {
    await seed();
    const champion = await cli(['show', 'mnist']);
    expect(champion.out).toContain('mnist v1 (champion)');
    expect(champion.out).toContain('inputs dense_input[-1,2]');
    expect((await cli(['show', 'mnist', '@challenger'])).out).toContain('mnist v2 (challenger)');
    const json = JSON.parse((await cli(['show', 'mnist', '2', '--json'])).out);
    expect(json.mlmodel.fedlearn).toMatchObject({ jobId: 'j1', round: 2, strategy: 'fedavg' });
  });

  it('promotes a version to champion and records who and why', async () => {
    await seed();
    const { code, out } = await cli(['promote', 'mnist', '2', '--reason', 'better on fresh data']);
    expect(code).toBe(0);
    expect(out).toBe('mnist: champion → v2 (was v1) by cli:alice: better on fresh data\n');
    const shown = JSON.parse((await cli(['show', 'mnist', '--json'])).out);
    expect(shown.version.version).toBe(2);
    const { LocalRegistry } = await import('@fedlearn/registry');
    const log = await new LocalRegistry({ home }).auditLog('mnist');
    expect(log.at(-1)).toMatchObject({
      alias: 'champion',
      version: 2,
      previous: 1,
      actor: 'cli:alice',
      reason: 'better on fresh data',
    });
  });

  it('reports typed errors and usage errors with distinct exit codes', async () => {
    await seed();
    const unknown = await cli(['show', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('error [REGISTRY_NOT_FOUND]');
    const badVersion = await cli(['promote', 'mnist', 'two']);
    expect(badVersion.code).toBe(1);
    expect(badVersion.err).toContain('error [INVALID_ARGUMENT]');
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['promote', 'mnist'])).code).toBe(2);
    expect((await cli(['list', '--bogus'])).code).toBe(2);
    expect(
      (await cli(['list'], { MLFLOW_TRACKING_URI: 'file:./mlruns', FEDLEARN_HOME: home })).err,
    ).toContain('INVALID_CONFIG');
  });

  it('says so when nothing is registered', async () => {
    expect((await cli(['list'])).out).toBe('no registered models\n');
  });

  it('lists the aliases of MLflow versions (in-process MLflow stand-in: search results carry no aliases)', async () => {
    const mlflow = await startMlflowStandIn({ proxyArtifacts: true });
    try {
      const env = { MLFLOW_TRACKING_URI: mlflow.url };
      await seed(env);
      const { code, out } = await cli(['list'], { ...env, USER: 'alice' });
      expect(code).toBe(0);
      const lines = out.trim().split('\n');
      expect(lines[1]).toMatch(/^mnist\s+1\s+champion\s+0\.81\s+/);
      expect(lines[2]).toMatch(/^mnist\s+2\s+challenger\s+0\.79\s+/);
      const json = await cli(['list', 'mnist', '--json'], env);
      expect(JSON.parse(json.out).map((v: { aliases: string[] }) => v.aliases)).toEqual([
        ['champion'],
        ['challenger'],
      ]);
    } finally {
      await mlflow.close();
    }
  });
});
