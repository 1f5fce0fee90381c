import { decodeParams, encodeParams, flattenParams } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  apiCaller,
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  isType,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
  TestClient,
} from './harness.js';

const cleanups = cleanupAfterEach();
const INITIAL = Buffer.from(encodeParams(params([1, 2, 3, 4]))).toString('base64');

async function setup() {
  const { coordinator, logs } = await startCoordinator();
  cleanups.push(() => coordinator.stop());
  const call = apiCaller(coordinator);
  const json = async (path: string, init?: Parameters<typeof call>[1]) => (await call(path, init)).json();
  return { coordinator, logs, call, json };
}

/** A job that runs until cancelled: its one client never answers. */
async function blockingJob(coordinator: Awaited<ReturnType<typeof setup>>['coordinator']) {
  const silent = new RawClient(coordinator.url);
  cleanups.push(() => silent.close());
  await silent.connected();
  silent.hello('silent');
  await silent.waitFor(isType('welcome'));
  const started = nextEvent(coordinator, 'round_started');
  const job = await coordinator.submitJob({
    name: 'blocking',
    rounds: 5,
    roundTimeoutMs: 3_600_000,
    strategy: { minFitClients: 1 },
    model: { params: INITIAL },
  });
  await started;
  return job;
}

describe('job queue', () => {
  it('queues jobs by priority, then submission; a cancelled job ends cancelled and the next one runs', async () => {
    const { coordinator, json, call } = await setup();
    const running = await blockingJob(coordinator);
    const spec = { rounds: 1, strategy: { minFitClients: 1 }, model: { params: INITIAL } };
    const post = (name: string, priority?: number) =>
      json(`/v1/jobs${priority === undefined ? '' : `?priority=${priority}`}`, {
        method: 'POST',
        body: JSON.stringify({ ...spec, name }),
      });
    const low = await post('low');
    const high = await post('high', 5);
    const low2 = await post('low-two');
    expect([low, high, low2].map((j) => j.status)).toEqual(['queued', 'queued', 'queued']);
    const listed = new Map(
      ((await json('/v1/jobs')).jobs as { id: string; queuePosition?: number }[]).map((j) => [j.id, j]),
    );
    expect([high, low, low2].map((j) => listed.get(j.id)?.queuePosition)).toEqual([1, 2, 3]);
    const bad = await call('/v1/jobs?priority=high', { method: 'POST', body: JSON.stringify(spec) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('INVALID_ARGUMENT');

    // Cancelling a queued job ends it at once; cancelling the running one lets the next run.
    expect((await json(`/v1/jobs/${low2.id}/cancel`, { method: 'POST' })).status).toBe('cancelled');
    const nextStarted = nextEvent(coordinator, 'job_started', (e) => e.job.id === high.id);
    await json(`/v1/jobs/${running.id}/cancel`, { method: 'POST' });
    await nextStarted;
    expect((await json(`/v1/jobs/${running.id}`)).status).toBe('cancelled');
    expect((await json(`/v1/jobs/${low.id}`)).queuePosition).toBe(1);
  });

  it('pauses a running job after abandoning its round, and resumes it from its last completed round', async () => {
    const { coordinator, json } = await setup();
    const clients = [1, 2].map((d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(clients));
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 2);
    // Client c2 answers round 1, then goes silent in round 2 until the job is resumed.
    let silent = false;
    clients[1]!.intercept = (m) => (silent && m.type === 'fit_res' ? 'drop' : m);
    const firstRound = nextEvent(coordinator, 'round_completed');
    const job = await coordinator.submitJob({
      name: 'pausable',
      rounds: 3,
      federatedEvaluation: false,
      roundTimeoutMs: 3_600_000,
      strategy: { minFitClients: 2 },
      model: { params: INITIAL },
    });
    await firstRound;
    silent = true;
    const secondStarted = nextEvent(coordinator, 'round_started', (e) => e.round === 2);
    await secondStarted;
    const paused = nextEvent(coordinator, 'job_status', (e) => e.job.status === 'paused');
    await json(`/v1/jobs/${job.id}/pause`, { method: 'POST' });
    await paused;
    const view = await json(`/v1/jobs/${job.id}`);
    expect(view).toMatchObject({ status: 'paused' });
    expect(view.rounds.map((r: { round: number }) => r.round)).toEqual([1]);
    // The paused job's model is its last completed round's checkpoint.
    const model = await json(`/v1/jobs/${job.id}/model`);
    expect(model.round).toBe(1);
    const step = 1.5; // (1·10 + 2·10) / 20
    expect(Array.from(flattenParams(decodeParams(Buffer.from(model.params, 'base64'))))).toEqual(
      [1, 2, 3, 4].map((v) => v + step),
    );

    silent = false;
    const finished = nextEvent(coordinator, 'job_finished', (e) => e.job.id === job.id);
    expect((await json(`/v1/jobs/${job.id}/resume`, { method: 'POST' })).status).toMatch(/queued|running/);
    const done = (await finished).job;
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.round, r.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
    ]);
    const final = await json(`/v1/jobs/${job.id}/model`);
    expect(Array.from(flattenParams(decodeParams(Buffer.from(final.params, 'base64'))))).toEqual(
      [1, 2, 3, 4].map((v) => v + 3 * step),
    );
    const rounds = await json(`/v1/jobs/${job.id}/rounds`);
    expect(rounds.rounds).toHaveLength(3);
  });

  it('refuses to resume or pause a finished job, with a typed error', async () => {
    const { coordinator, call } = await setup();
    const job = await blockingJob(coordinator);
    const finished = nextEvent(coordinator, 'job_finished');
    await coordinator.cancelJob(job.id);
    expect((await finished).job.status).toBe('cancelled');
    for (const action of ['pause', 'resume']) {
      const response = await call(`/v1/jobs/${job.id}/${action}`, { method: 'POST' });
      expect(response.status).toBe(409);
      expect((await response.json()).error.code).toBe('JOB_CONFLICT');
    }
    const missing = await call('/v1/jobs/nope/pause', { method: 'POST' });
    expect((await missing.json()).error.code).toBe('JOB_NOT_FOUND');
  });
});
