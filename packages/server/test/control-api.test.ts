import { encodeParams } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  cleanupAfterEach,
  isType,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
} from './harness.js';

const cleanups = cleanupAfterEach();

async function setup() {
  const { coordinator } = await startCoordinator();
  cleanups.push(() => coordinator.stop());
  const call = (path: string, init: RequestInit = {}, token: string | null = API_TOKEN) =>
    fetch(`${coordinator.url}${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
  return { coordinator, call };
}

describe('control API', () => {
  it('answers health and metrics without a token', async () => {
    const { call } = await setup();
    expect(await (await call('/healthz', {}, null)).json()).toEqual({ status: 'ok' });
    const metrics = await (await call('/metrics', {}, null)).text();
    expect(metrics).toContain('fedlearn_clients_connected');
  });

  it('refuses /v1 without the right bearer token', async () => {
    const { call } = await setup();
    for (const token of [null, 'wrong-token-wrong-token']) {
      const response = await call('/v1/status', {}, token);
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe('UNAUTHORIZED');
    }
  });

  it('creates, lists, reads and cancels a job; a second job waits in the queue', async () => {
    const { coordinator, call } = await setup();
    const started = nextEvent(coordinator, 'job_started');
    const created = await call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ rounds: 2, clientWaitMs: 60_000 }),
    });
    expect(created.status).toBe(201);
    const job = await created.json();
    expect(job).toMatchObject({ status: expect.stringMatching(/queued|running/), spec: { rounds: 2 } });
    await started;
    const second = await call('/v1/jobs', { method: 'POST', body: JSON.stringify({ rounds: 1 }) });
    expect(second.status).toBe(201);
    expect(await second.json()).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect((await (await call(`/v1/jobs/${job.id}`)).json()).id).toBe(job.id);
    expect((await (await call('/v1/jobs')).json()).jobs).toHaveLength(2);
    const status = await (await call('/v1/status')).json();
    expect(status.job.id).toBe(job.id);
    expect(status.queue).toHaveLength(1);
    const finished = nextEvent(coordinator, 'job_finished', (e) => e.job.id === job.id);
    expect((await call(`/v1/jobs/${job.id}/cancel`, { method: 'POST' })).status).toBe(200);
    expect((await finished).job.status).toBe('cancelled');
    expect((await (await call(`/v1/jobs/${job.id}`)).json()).status).toBe('cancelled');
  });

  it('cancels a job in the middle of a round: it ends cancelled, and the API says so', async () => {
    const { coordinator, call } = await setup();
    const silent = new RawClient(coordinator.url);
    cleanups.push(() => silent.close());
    await silent.connected();
    silent.hello('silent');
    await silent.waitFor(isType('welcome'));
    const created = await call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({
        rounds: 3,
        roundTimeoutMs: 3_600_000,
        strategy: { minFitClients: 1 },
        model: { params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64') },
      }),
    });
    const { id } = await created.json();
    await silent.waitFor(isType('fit_ins')); // round 1 waits for the silent client's update
    const cancel = await call(`/v1/jobs/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    const done = await coordinator.waitForJob(id);
    expect(done.status).toBe('cancelled');
    expect(done.rounds.length).toBeLessThanOrEqual(1);
    const read = await (await call(`/v1/jobs/${id}`)).json();
    expect(read).toMatchObject({ id, status: 'cancelled', finishedAt: expect.any(String) });
    expect((await (await call('/v1/status')).json()).job).toBeNull();
  });

  it('answers bad requests with typed errors', async () => {
    const { call } = await setup();
    const invalid = await call('/v1/jobs', { method: 'POST', body: JSON.stringify({ rounds: 0, bogus: 1 }) });
    expect(invalid.status).toBe(400);
    const body = await invalid.json();
    expect(body.error.code).toBe('INVALID_CONFIG');
    expect(body.error.message).toMatch(/rounds/);
    const notJson = await fetch(`${(await setup()).coordinator.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('MALFORMED_MESSAGE');
    const missing = await call('/v1/jobs/nope');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('JOB_NOT_FOUND');
  });
});
