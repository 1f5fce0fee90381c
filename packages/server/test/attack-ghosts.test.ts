import { ManualClock } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  isType,
  nextEvent,
  RawClient,
  startCoordinator,
  TestClient,
} from './harness.js';

const cleanups = cleanupAfterEach();

/** A manual clock that starts at the real time, since clients check round deadlines against theirs. */
const frozenClock = () => new ManualClock(Date.now());

async function listedClients(url: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const body = (await response.json()) as { clients: { clientId: string }[] };
  return body.clients.map((c) => c.clientId).sort();
}

async function rawClient(url: string): Promise<RawClient> {
  const client = new RawClient(url);
  cleanups.push(() => client.close());
  await client.connected();
  return client;
}

describe('attack: ghost clients and bad initial-model candidates', () => {
  it('forgets the id a connection said before, so no ghost is listed, counted or asked, and a job completes', async () => {
    const { coordinator } = await startCoordinator({ clock: frozenClock() });
    cleanups.push(() => coordinator.stop());
    const ghost = await rawClient(coordinator.url);
    ghost.hello('aaa-ghost');
    await ghost.waitFor(isType('welcome'));
    ghost.hello('aab-ghost');
    await ghost.waitFor(() => ghost.received.filter(isType('welcome')).length === 2);
    expect(await listedClients(coordinator.url)).toEqual(['aab-ghost']);
    ghost.close();
    await nextEvent(coordinator, 'client_left', (e) => e.clientId === 'aab-ghost');
    expect(await listedClients(coordinator.url)).toEqual([]);
    expect(coordinator.clients.size).toBe(0);

    const good = [1, 2].map((d) => new TestClient(coordinator.url, `good-${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(good));
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 2);
    const job = await coordinator.submitJob({ rounds: 1, federatedEvaluation: false });
    // The clock never moves: the job can only finish if no one waits on a ghost.
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds[0]?.completed).toBe(2);
  });

  it('asks the next client when a candidate stays silent or answers the initial-model request malformed', async () => {
    const clock = frozenClock();
    const start = clock.now();
    const { coordinator } = await startCoordinator({ clock });
    cleanups.push(() => coordinator.stop());
    const silent = await rawClient(coordinator.url);
    silent.hello('a-silent');
    const malformed = await rawClient(coordinator.url);
    malformed.hello('b-malformed');
    await Promise.all([silent.waitFor(isType('welcome')), malformed.waitFor(isType('welcome'))]);
    const good = [1, 2].map((d) => new TestClient(coordinator.url, `g-${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(good));
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 4);
    // The two bad ones leave when given work, so the round is the good clients'.
    for (const bad of [silent, malformed]) void bad.waitFor(isType('fit_ins')).then(() => bad.close());

    const job = await coordinator.submitJob({
      rounds: 1,
      federatedEvaluation: false,
      model: { requestTimeoutMs: 5_000 },
    });
    await silent.waitFor(isType('get_parameters_ins'));
    clock.advance(5_000);
    await malformed.waitFor(isType('get_parameters_ins'));
    malformed.sendMessage({ type: 'get_parameters_res', requestId: 7 });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(good[0]!.received.some(isType('get_parameters_ins'))).toBe(true);
    expect(good[1]!.received.some(isType('get_parameters_ins'))).toBe(false);
    // The clock moved only by the one request timeout, far less than the 120 s client wait.
    expect(clock.now()).toBe(start + 5_000);
  });
});
