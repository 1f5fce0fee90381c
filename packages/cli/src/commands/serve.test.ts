import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@fedlearn/client-node';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import type { ServingHandle } from '@fedlearn/serving';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IMAGE_SIZE } from '../mnist.js';
import { buildMnistMlp, MODEL_NAME } from '../mnist-model.js';
import { runServeCommand, serveConfigFromArgs } from './serve.js';

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fedlearn-serve-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** What `fedlearn demo` leaves behind: mnist-mlp registered in ./.fedlearn with a champion. */
async function registerDemoModel(): Promise<void> {
  await selectBackend('cpu');
  const model = buildMnistMlp(42);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { cwd }));
  const run = await lifecycle.startRun({
    jobId: 'demo',
    modelName: MODEL_NAME,
    strategy: 'fedavg',
    rounds: 1,
    clients: 2,
    secureAggregation: false,
  });
  await run.registerVersion(
    {
      modelTopology: saved!.modelTopology as Record<string, unknown>,
      weightSpecs: saved!.weightSpecs!.map((s) => ({
        name: s.name,
        shape: s.shape,
        dtype: 'float32' as const,
      })),
      weightData: new Uint8Array((saved!.weightData as ArrayBuffer).slice(0)),
    },
    { round: 1, metrics: { accuracy: 0.9 } },
  );
  await run.finish();
  await lifecycle.close();
}

describe('fedlearn serve', () => {
  it('with no configuration serves the demo model from ./.fedlearn, auth off and loudly so', async () => {
    await registerDemoModel();
    const controller = new AbortController();
    let out = '';
    let serving: ServingHandle | undefined;
    // Only the ports are chosen here (0: free ones), so the test does not collide with a running server.
    const done = runServeCommand(
      ['--port', '0', '--grpc-port', '0'],
      { stdout: (t) => (out += t), stderr: () => undefined, env: {}, cwd },
      {
        signal: controller.signal,
        onReady: (h) => (serving = h),
      },
    );
    while (!serving) await new Promise((r) => setTimeout(r, 20));
    expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${serving.url}/v1/models/${MODEL_NAME}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instance: new Array(IMAGE_SIZE).fill(0.5) }),
    });
    const body = (await response.json()) as { model: string; version: string; probabilities: number[] };
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ model: MODEL_NAME, version: '1' });
    expect(body.probabilities).toHaveLength(10);
    expect(out).toContain('mnist-mlp@champion (v1)');
    expect(out).toContain('WARNING: authentication is OFF');
    controller.abort();
    expect(await done).toBe(0);
  });

  it('says how to get a model when there is none to serve', async () => {
    let err = '';
    const code = await runServeCommand(['--port', '0', '--grpc-port', '0'], {
      stdout: () => undefined,
      stderr: (t) => (err += t),
      env: {},
      cwd,
    });
    expect(code).toBe(1);
    expect(err).toMatch(/Nothing to serve yet: train one with `npm start`/);
  });

  it('--wait-for-model waits, with progress, until the alias exists, then serves it', async () => {
    const controller = new AbortController();
    let err = '';
    let serving: ServingHandle | undefined;
    const looks: number[] = [];
    const ready = new Promise<void>((resolve) => {
      void runServeCommand(
        ['--port', '0', '--grpc-port', '0', '--wait-for-model', '--wait-interval', '250'],
        { stdout: () => undefined, stderr: (t) => (err += t), env: {}, cwd },
        {
          signal: controller.signal,
          onReady: (h) => {
            serving = h;
            resolve();
          },
          // The first two looks find nothing; the model is registered during the second pause.
          sleep: async (ms) => {
            looks.push(ms);
            if (looks.length === 2) await registerDemoModel();
          },
        },
      );
    });
    await ready;
    expect(looks).toEqual([250, 250]);
    expect(err.match(/waiting for mnist-mlp@champion \(REGISTRY_NOT_FOUND/g)).toHaveLength(2);
    expect(err).toContain('attempt 2');
    const response = await fetch(`${serving!.url}/v2/health/ready`);
    expect(response.status).toBe(200);
    controller.abort();
  });

  it('--wait-for-model stops waiting, exit 0, when told to stop', async () => {
    const controller = new AbortController();
    const code = await runServeCommand(
      ['--port', '0', '--grpc-port', '0', '--wait-for-model'],
      { stdout: () => undefined, stderr: () => undefined, env: {}, cwd },
      { signal: controller.signal, sleep: async () => controller.abort() },
    );
    expect(code).toBe(0);
  });

  it('turns auth on from flags or env and refuses a bad rate limit', () => {
    expect(serveConfigFromArgs(['--api-key', 'k'.repeat(20)], {})?.auth).toMatchObject({ mode: 'api-key' });
    expect(serveConfigFromArgs([], { FEDLEARN_JWT_SECRET: 's'.repeat(40) })?.auth).toMatchObject({
      mode: 'jwt',
    });
    expect(() => serveConfigFromArgs(['--rate-limit', '-1'], {})).toThrow(/--rate-limit/);
    expect(() => serveConfigFromArgs(['--wait-interval', '5'], {})).toThrow(/--wait-interval/);
  });
});
