import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cryptoRandomBytes, encodeParams, generateIdentity } from '@fedlearn/core';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { Coordinator } from '../src/index.js';
import { EmbeddedCoordinatorStore } from '../src/store/index.js';
import {
  API_TOKEN,
  arithmeticTrainer,
  CLIENT_TOKEN,
  cleanupAfterEach,
  enrollClient,
  isError,
  isType,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
  TestClient,
  testClock,
} from './harness.js';

const cleanups = cleanupAfterEach();
const READ_TOKEN = 'test-read-token-0123456789';

function api(
  coordinator: Coordinator,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
) {
  return fetch(`${coordinator.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? API_TOKEN}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

const publicKey = () => Buffer.from(generateIdentity(cryptoRandomBytes).publicKey).toString('base64');

async function enrolledCoordinator(options: Parameters<typeof startCoordinator>[0] = {}) {
  const started = await startCoordinator({ clientAuth: 'enrolled', apiReadToken: READ_TOKEN, ...options });
  cleanups.push(() => started.coordinator.stop());
  return started;
}

/** Says hello on a fresh socket and resolves with the coordinator's first answer to it. */
async function helloAnswer(coordinator: Coordinator, clientId: string, extra: Record<string, unknown>) {
  const raw = new RawClient(coordinator.url);
  cleanups.push(() => raw.close());
  await raw.connected();
  raw.hello(clientId, undefined, 10, extra);
  const answer = await raw.waitFor((m) => m.type === 'welcome' || m.type === 'error');
  return { raw, answer };
}

const codeOf = (m: Record<string, unknown>) => (m.error as { code?: string } | undefined)?.code;

function expectNoSecretIn(logs: unknown[], secrets: string[]): void {
  const text = JSON.stringify(logs);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('client identity (attacks on enrollment)', () => {
  it('refuses a hello with no credential, a wrong one, another client’s, or for an unknown id', async () => {
    const { coordinator, logs } = await enrolledCoordinator();
    const alice = await enrollClient(coordinator, 'alice');
    const bob = await enrollClient(coordinator, 'bob');

    const attempts: [string, Record<string, unknown>][] = [
      ['alice', {}],
      ['alice', { credential: 'x'.repeat(43) }],
      ['alice', { credential: bob }],
      ['mallory', { credential: alice }],
    ];
    for (const [clientId, extra] of attempts) {
      const { raw, answer } = await helloAnswer(coordinator, clientId, extra);
      expect(codeOf(answer)).toBe('UNAUTHORIZED');
      expect(answer.fatal).toBe(true);
      await new Promise<void>((resolve) =>
        raw.socket.connected ? raw.socket.once('disconnect', () => resolve()) : resolve(),
      );
    }
    expect(coordinator.clients.size).toBe(0);

    const { answer } = await helloAnswer(coordinator, 'alice', { credential: alice });
    expect(answer.type).toBe('welcome');
    expect(coordinator.clients.get('alice')).toBeDefined();
    expectNoSecretIn(logs, [alice, bob, API_TOKEN, READ_TOKEN, CLIENT_TOKEN]);
  });

  it('does not let a second connection take over a connected id without its credential', async () => {
    const { coordinator } = await enrolledCoordinator();
    const credential = await enrollClient(coordinator, 'alice');
    const { raw: first } = await helloAnswer(coordinator, 'alice', { credential });
    const owner = coordinator.clients.get('alice')?.connection.id;
    expect(owner).toBe(first.socket.id);

    for (const extra of [{}, { credential: 'forged-credential-forged-credential-0000000' }]) {
      const { answer } = await helloAnswer(coordinator, 'alice', extra);
      expect(codeOf(answer)).toBe('UNAUTHORIZED');
    }
    expect(coordinator.clients.get('alice')?.connection.id).toBe(owner);
    expect(first.socket.connected).toBe(true);
    expect(first.received.some(isError('DUPLICATE_CLIENT'))).toBe(false);

    // The same identity, proven, may replace its own stale connection.
    const { raw: second, answer } = await helloAnswer(coordinator, 'alice', { credential });
    expect(answer.type).toBe('welcome');
    await first.waitFor(isError('DUPLICATE_CLIENT'));
    expect(coordinator.clients.get('alice')?.connection.id).toBe(second.socket.id);
  });

  it('refuses a revoked client, and revocation survives a restart on the same store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fedlearn-identity-'));
    const store = await EmbeddedCoordinatorStore.open({ dir: join(dataDir, 'state') });
    cleanups.push(() => store.close());
    const first = await enrolledCoordinator({ store });
    const kept = await enrollClient(first.coordinator, 'kept');
    const gone = await enrollClient(first.coordinator, 'gone');
    expect((await api(first.coordinator, '/v1/enrollments/gone/revoke', { method: 'POST' })).status).toBe(
      200,
    );
    expect(codeOf((await helloAnswer(first.coordinator, 'gone', { credential: gone })).answer)).toBe(
      'CLIENT_REVOKED',
    );
    await first.coordinator.stop();

    const second = await enrolledCoordinator({ store });
    expect(codeOf((await helloAnswer(second.coordinator, 'gone', { credential: gone })).answer)).toBe(
      'CLIENT_REVOKED',
    );
    expect((await helloAnswer(second.coordinator, 'kept', { credential: kept })).answer.type).toBe('welcome');
    const listed = (await (await api(second.coordinator, '/v1/enrollments')).json()) as {
      enrollments: { clientId: string; revoked: boolean }[];
    };
    expect(listed.enrollments.map((e) => [e.clientId, e.revoked]).sort()).toEqual([
      ['gone', true],
      ['kept', false],
    ]);
    expect(JSON.stringify(listed)).not.toContain('sha256:');
  });

  it('cuts off a client revoked in the middle of a job, and the round completes without it', async () => {
    const { coordinator, logs } = await enrolledCoordinator();
    const credentials = new Map<string, string>();
    for (const id of ['a', 'b', 'c']) credentials.set(id, await enrollClient(coordinator, id));
    const clients = ['a', 'b', 'c'].map(
      (id, i) =>
        new TestClient(coordinator.url, id, arithmeticTrainer(i + 1, 10), CLIENT_TOKEN, credentials.get(id)),
    );
    cleanups.push(() => {
      for (const client of clients) client.close();
    });
    const revoked = new Promise<number>((resolve) => {
      clients[2]!.intercept = (message) => {
        if (message.type !== 'fit_res') return message;
        // c is about to upload: revoke it instead, and the upload never happens.
        void api(coordinator, '/v1/enrollments/c/revoke', { method: 'POST' }).then((r) => resolve(r.status));
        return 'drop';
      };
    });
    while (coordinator.clients.size < 3) await nextEvent(coordinator, 'client_joined');
    const job = await coordinator.submitJob({
      rounds: 1,
      federatedEvaluation: false,
      strategy: { minFitClients: 2, minAvailableClients: 3 },
      model: { params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64') },
    });
    expect(await revoked).toBe(200);
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.status, r.sampled, r.completed])).toEqual([['ok', 3, 2]]);
    expect(coordinator.clients.get('c')).toBeUndefined();
    expect(clients[2]!.received.some(isError('CLIENT_REVOKED'))).toBe(true);

    // It cannot come back, even with its own credential.
    const back = await helloAnswer(coordinator, 'c', { credential: credentials.get('c') });
    expect(codeOf(back.answer)).toBe('CLIENT_REVOKED');
    expectNoSecretIn(logs, [...credentials.values()]);
  });

  it('pins the enrolled identity keys for a malicious-server job that names none', async () => {
    const { coordinator } = await enrolledCoordinator();
    const keys = new Map<string, string>();
    for (const id of ['k1', 'k2', 'k3']) {
      const key = generateIdentity(cryptoRandomBytes).publicKey;
      keys.set(id, Buffer.from(key).toString('hex'));
      await enrollClient(coordinator, id, Buffer.from(key).toString('base64'));
    }
    await api(coordinator, '/v1/enrollments/k3/revoke', { method: 'POST' });
    const malicious = {
      rounds: 1,
      strategy: { minFitClients: 2 },
      secagg: { enabled: true, mode: 'malicious' },
    };
    // Two unrevoked clients are fewer than secure aggregation's three.
    await expect(coordinator.submitJob(malicious as never)).rejects.toThrow(/minFitClients/);
    await enrollClient(coordinator, 'k4');
    const job = await coordinator.submitJob({ ...malicious, strategy: { minFitClients: 3 } } as never);
    cleanups.push(() => void coordinator.cancelJob(job.id));
    expect(Object.keys(job.spec.secagg.identities ?? {}).sort()).toEqual(['k1', 'k2', 'k4']);
    expect(job.spec.secagg.identities?.k1).toBe(keys.get('k1'));
    await coordinator.cancelJob(job.id);
    await coordinator.waitForJob(job.id);
    const forged = { k1: keys.get('k1'), k2: keys.get('k2'), k4: '00'.repeat(32) };
    await expect(
      coordinator.submitJob({
        ...malicious,
        strategy: { minFitClients: 3 },
        secagg: { ...malicious.secagg, identities: forged },
      } as never),
    ).rejects.toThrow(/must match the enrolled/);
  });
});

describe('control API tokens', () => {
  it('lets a read token look but not change, and a client credential open nothing', async () => {
    const { coordinator } = await enrolledCoordinator();
    const credential = await enrollClient(coordinator, 'alice');
    expect((await api(coordinator, '/v1/enrollments', { token: READ_TOKEN })).status).toBe(200);
    expect((await api(coordinator, '/v1/jobs', { token: READ_TOKEN })).status).toBe(200);
    for (const [path, body] of [
      ['/v1/enrollments', { clientId: 'eve', identityPublicKey: publicKey() }],
      ['/v1/enrollments/alice/revoke', undefined],
      ['/v1/jobs', { rounds: 1 }],
    ] as const) {
      const response = await api(coordinator, path, { method: 'POST', token: READ_TOKEN, body });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
    expect(coordinator.enrollments.get('alice')?.revokedAt).toBeUndefined();
    expect(coordinator.enrollments.get('eve')).toBeUndefined();
    for (const token of [credential, CLIENT_TOKEN]) {
      const response = await api(coordinator, '/v1/enrollments', { token });
      expect(response.status).toBe(401);
    }
  });

  it('refuses bad enrollments with typed errors and never shows the credential again', async () => {
    const { coordinator } = await enrolledCoordinator();
    const bad: unknown[] = [
      {},
      { clientId: 'x' },
      { clientId: '__proto__', identityPublicKey: publicKey() },
      { clientId: 'x', identityPublicKey: 'short' },
      { clientId: 'x', identityPublicKey: publicKey(), extra: 1 },
      [],
    ];
    for (const body of bad) {
      const response = await api(coordinator, '/v1/enrollments', { method: 'POST', body });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
    }
    const first = await api(coordinator, '/v1/enrollments', {
      method: 'POST',
      body: { clientId: 'x', identityPublicKey: publicKey() },
    });
    expect(first.status).toBe(201);
    // The credential is in this answer only: nothing on its way may keep it.
    expect(first.headers.get('cache-control')).toBe('no-store');
    const again = await api(coordinator, '/v1/enrollments', {
      method: 'POST',
      body: { clientId: 'x', identityPublicKey: publicKey() },
    });
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('DUPLICATE_CLIENT');
    // Concurrent duplicates: one credential is issued, the others are refused.
    const racing = await Promise.all(
      Array.from({ length: 5 }, () =>
        api(coordinator, '/v1/enrollments', {
          method: 'POST',
          body: { clientId: 'y', identityPublicKey: publicKey() },
        }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    const shown = await (await api(coordinator, '/v1/enrollments/x')).json();
    expect(Object.keys(shown as object).sort()).toEqual([
      'clientId',
      'createdAt',
      'identityPublicKey',
      'revoked',
    ]);
    const missing = await api(coordinator, '/v1/enrollments/nobody/revoke', { method: 'POST' });
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('CLIENT_NOT_ENROLLED');
  });
});

describe('rate limits', () => {
  it('refuses socket handshakes past the per-address burst until time refills it', async () => {
    const clock = testClock();
    const { coordinator } = await enrolledCoordinator({
      clock,
      rateLimits: { connectionBurst: 3, connectionsPerSecond: 1 },
    });
    const outcome = () =>
      new Promise<string>((resolve) => {
        const socket = io(coordinator.url, {
          auth: { token: CLIENT_TOKEN },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
        });
        cleanups.push(() => void socket.disconnect());
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (e: Error & { data?: { code?: string } }) =>
          resolve(e.data?.code ?? e.message),
        );
      });
    const results: string[] = [];
    for (let i = 0; i < 5; i++) results.push(await outcome());
    expect(results).toEqual(['connected', 'connected', 'connected', 'RATE_LIMITED', 'RATE_LIMITED']);
    clock.advance(1000);
    expect(await outcome()).toBe('connected');
  });

  it('counts hellos too: a socket cannot retry credentials faster than the limit', async () => {
    const clock = testClock();
    const { coordinator } = await enrolledCoordinator({
      clock,
      rateLimits: { connectionBurst: 2, connectionsPerSecond: 1 },
    });
    await enrollClient(coordinator, 'alice');
    // One handshake token is spent connecting, the second on the first guess; the next is refused.
    const { answer } = await helloAnswer(coordinator, 'alice', {
      credential: 'guess-1-guess-1-guess-1-guess-1-guess-1-gu',
    });
    expect(codeOf(answer)).toBe('UNAUTHORIZED');
    const next = new RawClient(coordinator.url);
    cleanups.push(() => next.close());
    await expect(next.connected()).rejects.toMatchObject({ data: { code: 'RATE_LIMITED' } });
  });

  it('refuses a hello past the limit without ending the client: it may come back once refilled', async () => {
    const clock = testClock();
    const { coordinator } = await enrolledCoordinator({
      clock,
      rateLimits: { connectionBurst: 2, connectionsPerSecond: 1 },
    });
    const credential = await enrollClient(coordinator, 'alice');
    const [first, second] = [new RawClient(coordinator.url), new RawClient(coordinator.url)];
    cleanups.push(() => {
      first.close();
      second.close();
    });
    await Promise.all([first.connected(), second.connected()]); // both tokens spent
    first.hello('alice', undefined, 10, { credential });
    const refused = await first.waitFor(isError('RATE_LIMITED'));
    expect(refused.fatal).toBe(false);
    await new Promise<void>((resolve) =>
      first.socket.connected ? first.socket.once('disconnect', () => resolve()) : resolve(),
    );
    expect(coordinator.clients.get('alice')).toBeUndefined();
    clock.advance(1000);
    second.hello('alice', undefined, 10, { credential });
    await second.waitFor(isType('welcome'));
  });

  it('answers control-API requests past the limit with 429 RATE_LIMITED, before checking the token', async () => {
    const { coordinator } = await enrolledCoordinator({ rateLimits: { apiPerMinute: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await api(coordinator, '/v1/jobs', { token: 'wrong-token-0123456789' })).status);
    const limited = await api(coordinator, '/v1/jobs');
    expect(statuses).toEqual([401, 401, 401]);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect(limited.headers.get('retry-after')).not.toBeNull();
  });
});

describe('TLS configuration', () => {
  it('refuses a certificate without a key (and the reverse) and unreadable files, as config errors', async () => {
    for (const tls of [{ cert: '/tmp/cert.pem' }, { key: '/tmp/key.pem' }]) {
      await expect(startCoordinator({ tls: tls as never })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    }
    await expect(
      startCoordinator({ tls: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' } }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('tls.') });
  });
});

it('keeps the token mode of old for ids never enrolled, and protects the enrolled ones there too', async () => {
  const { coordinator } = await startCoordinator();
  cleanups.push(() => coordinator.stop());
  const raw = new RawClient(coordinator.url);
  cleanups.push(() => raw.close());
  await raw.connected();
  raw.hello('anyone');
  await raw.waitFor(isType('welcome'));

  const credential = await enrollClient(coordinator, 'alice');
  expect(codeOf((await helloAnswer(coordinator, 'alice', {})).answer)).toBe('UNAUTHORIZED');
  expect((await helloAnswer(coordinator, 'alice', { credential })).answer.type).toBe('welcome');
});
