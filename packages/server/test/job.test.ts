import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeParams, encodeParams, flattenParams } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
  TestClient,
  testClock,
} from './harness.js';

const cleanups = cleanupAfterEach();
/**
 * Rounds here end on events the tests cause (answers, silences, a clock they move), so the test
 * timeout only catches a hang; it is long because a loaded 2-core machine can take tens of seconds.
 */
const HANG_TIMEOUT_MS = 180_000;
/** Long enough that no well-behaved client could miss it: the tests move the clock instead. */
const ROUND_TIMEOUT_MS = 60_000;

async function setup(options: Parameters<typeof startCoordinator>[0] = {}) {
  const { coordinator, logs } = await startCoordinator(options);
  cleanups.push(() => coordinator.stop());
  return { coordinator, logs };
}

describe('a federated job over real sockets', { timeout: HANG_TIMEOUT_MS }, () => {
  it('runs every round, averages by examples, evaluates and checkpoints', async () => {
    const { coordinator } = await setup();
    const clients = [1, 2, 3].map(
      (d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, d * 10)),
    );
    cleanups.push(() => closeAll(clients));
    const job = await coordinator.submitJob({
      name: 'arith',
      rounds: 3,
      strategy: { minFitClients: 3 },
      model: {
        params: Buffer.from(encodeParams(params([1, 2, 3, 4]))).toString('base64'),
        topology: { class_name: 'Sequential', config: {} },
      },
    });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.round, r.status, r.sampled, r.completed])).toEqual([
      [1, 'ok', 3, 3],
      [2, 'ok', 3, 3],
      [3, 'ok', 3, 3],
    ]);
    // Each round adds the example-weighted mean delta: (1·10 + 2·20 + 3·30) / 60 = 140/60.
    const step = 140 / 60;
    const final = readFileSync(join(done.rounds[2]!.checkpoint!, 'group1-shard1of1.bin'));
    const values = new Float32Array(final.buffer, final.byteOffset, 4);
    expect(Array.from(values).map((v) => Number(v.toFixed(4)))).toEqual(
      [1, 2, 3, 4].map((v) => Number((v + 3 * step).toFixed(4))),
    );
    const modelJson = JSON.parse(readFileSync(join(done.rounds[2]!.checkpoint!, 'model.json'), 'utf8'));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest[0].weights).toEqual([{ name: 'w', shape: [4], dtype: 'float32' }]);
    expect(done.rounds[0]!.trainLoss).toBeCloseTo(step, 6);
    expect(done.rounds[0]!.federated?.accuracy).toBe(0.5);
    expect(done.rounds[0]!.bytesUp).toBe(3 * encodeParams(params([0, 0, 0, 0])).length);
  });

  it('asks a client for the initial model when the job gives none', async () => {
    const { coordinator } = await setup();
    const clients = [1, 2].map((d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(clients));
    const job = await coordinator.submitJob({ rounds: 1, strategy: { minFitClients: 2 } });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    const artifacts = readFileSync(join(done.rounds[0]!.checkpoint!, 'group1-shard1of1.bin'));
    expect(Array.from(new Float32Array(artifacts.buffer, artifacts.byteOffset, 4))).toEqual([
      1.5, 1.5, 1.5, 1.5,
    ]);
  });

  it('closes a round at its deadline when a sampled client goes silent, and goes on', async () => {
    const clock = testClock();
    const { coordinator, logs } = await setup({ clock });
    const good = [1, 2].map((d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, 10)));
    const silent = new RawClient(coordinator.url);
    cleanups.push(() => {
      closeAll(good);
      silent.close();
    });
    await silent.connected();
    silent.hello('silent');
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 3);
    // The deadline passes only once both good updates are in, so only the silent client misses it.
    coordinator.on((e) => {
      if (e.type === 'fit_received' && e.completed === 2) setImmediate(() => clock.advance(ROUND_TIMEOUT_MS));
    });
    const job = await coordinator.submitJob({
      rounds: 2,
      roundTimeoutMs: ROUND_TIMEOUT_MS,
      federatedEvaluation: false,
      strategy: { minFitClients: 2, minAvailableClients: 3 },
      model: { params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64') },
    });
    const done = await coordinator.waitForJob(job.id);
    expect(done.rounds.map((r) => [r.status, r.sampled, r.completed, r.timedOut])).toEqual([
      ['ok', 3, 2, 1],
      ['ok', 3, 2, 1],
    ]);
    expect(logs.some((l) => l.clientId === 'silent' && String(l.msg).includes('deadline'))).toBe(true);
  });

  it('fails a round without quorum, keeps the model, and runs the next round', async () => {
    const { coordinator } = await setup();
    const only = new TestClient(coordinator.url, 'c1', arithmeticTrainer(1, 10));
    const silent = new RawClient(coordinator.url);
    cleanups.push(() => {
      only.close();
      silent.close();
    });
    await silent.connected();
    silent.hello('silent');
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 2);
    const job = await coordinator.submitJob({
      rounds: 2,
      roundTimeoutMs: 300,
      federatedEvaluation: false,
      strategy: { minFitClients: 2 },
      model: { params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64') },
    });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.status, r.error?.code])).toEqual([
      ['failed', 'QUORUM_NOT_REACHED'],
      ['failed', 'QUORUM_NOT_REACHED'],
    ]);
  });

  it('decodes what it sends: fit_ins carry the global model in the wire format', async () => {
    const { coordinator } = await setup();
    const raw = new RawClient(coordinator.url);
    const other = new TestClient(coordinator.url, 'c1', arithmeticTrainer(1, 10));
    cleanups.push(() => {
      raw.close();
      other.close();
    });
    await raw.connected();
    raw.hello('raw');
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 2);
    await coordinator.submitJob({
      rounds: 1,
      roundTimeoutMs: 300,
      strategy: { minFitClients: 1, minAvailableClients: 2 },
      model: { params: Buffer.from(encodeParams(params([5, 6, 7, 8]))).toString('base64') },
    });
    const fitIns = await raw.waitFor((m) => m.type === 'fit_ins');
    expect(Array.from(flattenParams(decodeParams(fitIns.params as Uint8Array)))).toEqual([5, 6, 7, 8]);
  });
});
