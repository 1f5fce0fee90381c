import { encodeParams } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  apiCaller,
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  nextEvent,
  params,
  startCoordinator,
  TestClient,
} from './harness.js';

const cleanups = cleanupAfterEach();
const INITIAL = Buffer.from(encodeParams(params([1, 2, 3, 4]))).toString('base64');

async function setup(options: Parameters<typeof startCoordinator>[0] = {}) {
  const { coordinator, logs } = await startCoordinator(options);
  cleanups.push(() => coordinator.stop());
  const call = apiCaller(coordinator);
  return { coordinator, logs, call };
}

/** Parses a server-sent event stream into `{ id, event, data }` records. */
function parseEvents(text: string): { id: number; event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: '))
    .map((block) => {
      const field = (name: string) => block.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1] ?? '';
      return { id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) };
    });
}

describe('control API: jobs', () => {
  it('makes one job from 20 concurrent requests with the same Idempotency-Key; another body under it is 409', async () => {
    const { coordinator, call } = await setup();
    const body = JSON.stringify({ name: 'idem', rounds: 2, clientWaitMs: 3_600_000 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('/v1/jobs', { method: 'POST', body, headers: { 'idempotency-key': 'nightly-2026-12-01' } }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array(19).fill(200), 201]);
    const ids = new Set(await Promise.all(answers.map(async (a) => (await a.json()).id)));
    expect(ids.size).toBe(1);
    expect(coordinator.jobs.size).toBe(1);
    const other = await call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ name: 'idem', rounds: 3 }),
      headers: { 'idempotency-key': 'nightly-2026-12-01' },
    });
    expect(other.status).toBe(409);
    expect((await other.json()).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const badKey = await call('/v1/jobs', {
      method: 'POST',
      body,
      headers: { 'idempotency-key': 'x'.repeat(201) },
    });
    expect(badKey.status).toBe(400);
    expect((await badKey.json()).error.code).toBe('INVALID_ARGUMENT');
    expect(coordinator.jobs.size).toBe(1);
  });

  it('streams a job as server-sent events, replays after Last-Event-ID, and ends after job_finished', async () => {
    const { coordinator, call } = await setup();
    const clients = [1, 2].map((d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(clients));
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 2);
    const created = await (
      await call('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify({ rounds: 2, strategy: { minFitClients: 2 }, model: { params: INITIAL } }),
      })
    ).json();
    const live = await call(`/v1/jobs/${created.id}/events`);
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseEvents(await live.text());
    expect(events.map((e) => e.event)).toEqual([
      'job_status',
      'job_status',
      'round_started',
      'round_completed',
      'round_started',
      'round_completed',
      'job_status',
      'job_finished',
    ]);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.every((e) => e.data.jobId === created.id)).toBe(true);
    expect(events[3]?.data).toMatchObject({ round: 1, status: 'ok', completed: 2, accuracy: 0.5 });
    expect(events.at(-1)?.data).toMatchObject({ status: 'completed' });

    const replay = parseEvents(
      await (await call(`/v1/jobs/${created.id}/events`, { headers: { 'last-event-id': '5' } })).text(),
    );
    expect(replay.map((e) => e.id)).toEqual([6, 7, 8]);
    const badId = await call(`/v1/jobs/${created.id}/events`, { headers: { 'last-event-id': 'x' } });
    expect((await badId.json()).error.code).toBe('INVALID_ARGUMENT');
    expect((await (await call('/v1/jobs/nope/events')).json()).error.code).toBe('JOB_NOT_FOUND');
  });

  it('lists rounds and connected clients, serves the model, and names a failed job’s typed error', async () => {
    const { coordinator, call, logs } = await setup();
    const clients = [1, 2].map((d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(clients));
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 2);
    const listed = await (await call('/v1/clients')).json();
    expect(listed.clients.map((c: { clientId: string }) => c.clientId).sort()).toEqual(['c1', 'c2']);

    const job = await coordinator.submitJob({
      rounds: 1,
      federatedEvaluation: false,
      strategy: { minFitClients: 2 },
      model: { params: INITIAL },
    });
    await coordinator.waitForJob(job.id);
    const rounds = (await (await call(`/v1/jobs/${job.id}/rounds`)).json()).rounds;
    expect(rounds.map((r: { round: number; status: string }) => [r.round, r.status])).toEqual([[1, 'ok']]);
    const model = await (await call(`/v1/jobs/${job.id}/model`)).json();
    expect(model).toMatchObject({ jobId: job.id, round: 1, specs: [{ name: 'w', shape: [4] }] });
    // Every round's log lines name their job and round.
    expect(logs.some((r) => r.jobId === job.id && r.round === 1)).toBe(true);

    // Initial weights that are not in the params codec: the job fails with a typed error the API shows.
    const broken = await coordinator.submitJob({
      rounds: 1,
      strategy: { minFitClients: 2 },
      model: { params: Buffer.from('not a fedlearn model').toString('base64') },
    });
    const done = await coordinator.waitForJob(broken.id);
    expect(done.status).toBe('failed');
    const view = await (await call(`/v1/jobs/${broken.id}`)).json();
    expect(view).toMatchObject({ status: 'failed', error: { code: expect.stringMatching(/^PARAMS_/) } });
    const code = view.error.code as string;
    expect((await (await call(`/v1/jobs/${broken.id}/model`)).json()).error.code).toBe('MODEL_NOT_READY');

    const metrics = await (await call('/metrics')).text();
    expect(metrics).toMatch(/fedlearn_rounds_total\{status="ok"\} 1/);
    expect(metrics).toContain(`fedlearn_errors_total{code="${code}"} 1`);
    expect(metrics).toMatch(/fedlearn_jobs_queued 0/);
    expect(metrics).toMatch(/fedlearn_round_participants\{kind="completed"\} 2/);
    expect(metrics).toContain('fedlearn_round_stage_seconds_count{stage="training"} 1');
    expect(metrics).toContain('fedlearn_aggregation_seconds_count 1');
  });

  it('publishes its OpenAPI description at /docs', async () => {
    const { call } = await setup();
    const spec = await (await call('/docs/json')).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/jobs',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/cancel',
        '/v1/jobs/{id}/pause',
        '/v1/jobs/{id}/resume',
        '/v1/jobs/{id}/rounds',
        '/v1/jobs/{id}/model',
        '/v1/jobs/{id}/events',
        '/v1/clients',
      ]),
    );
    expect((await call('/docs')).status).toBeLessThan(400);
  });
});
