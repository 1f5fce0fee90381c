import { connect } from 'node:net';
import {
  createRng,
  cryptoRandomBytes,
  encodeParams,
  httpStatusOf,
  isErrorCode,
  PROTOCOL_VERSION,
  type Rng,
} from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  arithmeticTrainer,
  CLIENT_TOKEN,
  cleanupAfterEach,
  enrollClient,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
  TestClient,
} from './harness.js';

/**
 * Fuzzing the coordinator's two edges (the socket and the control API) with seeded random and
 * malformed input, on loopback, in a bounded number of messages. Each input must be answered with
 * a typed error, the coordinator must stay up, and a legitimate job must still complete.
 */
const cleanups = cleanupAfterEach();
const READ_TOKEN = 'fuzz-read-token-0123456789';
const SOCKETS = 4;
const MESSAGES_PER_SOCKET = 500;
const HELLOS = 120;
const IDENTIFIED_MESSAGES = 300;
const API_REQUESTS = 1000;
const RAW_HTTP = 40;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

function randomString(rng: Rng, max = 40): string {
  const alphabet = 'abcXYZ019._:-/ %\u0000\u00e9\u{1F600}"\\{}[]<>';
  const chars = [...alphabet];
  return Array.from({ length: rng.int(max + 1) }, () => pick(rng, chars)).join('');
}

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 9)) {
    case 0:
      return rng.int(2 ** 31) - 2 ** 30;
    case 1:
      return pick(rng, [Number.MAX_SAFE_INTEGER + 2, -0, 1e308, 0.5, -1]);
    case 2:
      return randomString(rng);
    case 3:
      return rng.next() < 0.5;
    case 4:
      return null;
    case 5:
      return Buffer.from(cryptoRandomBytes(rng.int(64)));
    case 6:
      return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(6) }, () => [
          pick(rng, ['type', 'jobId', 'round', 'params', '__proto__', 'constructor', randomString(rng, 8)]),
          randomValue(rng, depth + 1),
        ]),
      );
  }
}

const TYPES = ['fit_res', 'evaluate_res', 'secagg', 'get_parameters_res', 'client_error', 'heartbeat'];

/** A message shaped like a real one (a known type, mostly the right fields) with random damage. */
function randomMessage(rng: Rng, types: readonly string[]): Record<string, unknown> {
  const message: Record<string, unknown> = {
    type: rng.next() < 0.9 ? pick(rng, types) : randomString(rng, 12),
    jobId: rng.next() < 0.8 ? `job-${rng.int(5)}` : randomValue(rng),
    round: rng.next() < 0.8 ? rng.int(5) : randomValue(rng),
    numExamples: rng.next() < 0.8 ? rng.int(100) : randomValue(rng),
    metrics: rng.next() < 0.8 ? {} : randomValue(rng),
    loss: rng.next() < 0.8 ? rng.next() : randomValue(rng),
    sentAt: rng.next() < 0.8 ? 1 : randomValue(rng),
    error: rng.next() < 0.5 ? { code: 'INTERNAL', message: 'x' } : randomValue(rng),
  };
  for (let i = rng.int(3); i > 0; i--) message[randomString(rng, 8) || 'k'] = randomValue(rng);
  return message;
}

/** One frame that must be answered with exactly one error on an unidentified socket. */
function randomFrame(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
      return randomValue(rng, 4); // not a frame at all
    case 1:
      return { f: randomString(rng, 3), msg: randomMessage(rng, TYPES) };
    case 2:
      return { f: 'm', msg: randomValue(rng, 3) };
    case 3: // a binary descriptor that is wrong or far too large for a client that has not said hello
      return {
        f: 'm',
        msg: randomMessage(rng, TYPES),
        bin: pick(rng, [
          { id: rng.int(1000), size: 10, chunks: 7 },
          { id: -1, size: 1, chunks: 1 },
          { id: rng.int(1000), size: 2 ** 40, chunks: 2 ** 21 },
          randomValue(rng),
        ]),
      };
    case 4: // a chunk of a transfer never announced (ids apart from those above)
      return {
        f: 'c',
        id: 1_000_000 + rng.int(1000),
        i: rng.int(3),
        data: Buffer.from(cryptoRandomBytes(8)),
      };
    default:
      return { f: 'm', msg: randomMessage(rng, TYPES) };
  }
}

function errorCodes(client: RawClient): string[] {
  return client.received.map((m) =>
    m.type === 'error' ? String((m.error as { code?: unknown }).code) : `not an error: ${String(m.type)}`,
  );
}

async function opened(url: string): Promise<RawClient> {
  const client = new RawClient(url);
  cleanups.push(() => client.close());
  await client.connected();
  return client;
}

const PATHS = [
  '/v1/jobs',
  '/v1/jobs/x',
  '/v1/jobs/x/cancel',
  '/v1/status',
  '/v1/enrollments',
  '/v1/enrollments/legit-1',
  '/v1/enrollments/legit-1/revoke',
  '/v1',
  '/healthz',
  '/nope',
];

function randomRequest(rng: Rng, tokens: { credential: string }): { path: string; init: RequestInit } {
  const method = pick(rng, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
  let path = pick(rng, PATHS);
  if (rng.next() < 0.3) path += `/${encodeURIComponent(randomString(rng, 30))}`;
  if (rng.next() < 0.1) path = `/${encodeURIComponent(randomString(rng, 2000))}`;
  if (rng.next() < 0.2)
    path += `?${encodeURIComponent(randomString(rng, 20))}=${encodeURIComponent(randomString(rng, 20))}`;
  // Never the admin token on a state-changing method: the fuzz must not start jobs or revoke the
  // legitimate clients (state changes by admins are the API's purpose, not an attack).
  const token =
    method === 'GET' || method === 'HEAD'
      ? pick(rng, [undefined, 'wrong-token-0123456789', READ_TOKEN, API_TOKEN, tokens.credential])
      : pick(rng, [undefined, 'wrong-token-0123456789', READ_TOKEN, tokens.credential, CLIENT_TOKEN]);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD' && rng.next() < 0.8) {
    const kind = rng.int(4);
    body = kind === 0 ? randomString(rng, 200) : JSON.stringify(randomValue(rng));
    headers['content-type'] = pick(rng, [
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-8',
    ]);
  }
  return { path, init: { method, headers, ...(body === undefined ? {} : { body }) } };
}

/** Sends a request head that is not valid HTTP and resolves with the whole answer, once the server closes. */
function rawHttp(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < count; i = next++) results[i] = await task(i);
    }),
  );
  return results;
}

describe('fuzz: random and malformed input at both edges', () => {
  it('answers every bad socket message and API request with a typed error, then completes a job', async () => {
    const rng = createRng(20261201);
    const { coordinator } = await startCoordinator({
      clientAuth: 'enrolled',
      apiReadToken: READ_TOKEN,
      maxPayloadBytes: 1 << 20,
      rateLimits: { connectionBurst: 100_000, connectionsPerSecond: 1000, apiPerMinute: 1_000_000 },
    });
    cleanups.push(() => coordinator.stop());
    const credentials = new Map<string, string>();
    for (const id of ['legit-1', 'legit-2', 'legit-3', 'fuzzer'])
      credentials.set(id, await enrollClient(coordinator, id));

    // 1. Frames on sockets that never said hello: one typed refusal each.
    const unidentified = await Promise.all(Array.from({ length: SOCKETS }, () => opened(coordinator.url)));
    for (const client of unidentified) {
      for (let i = 0; i < MESSAGES_PER_SOCKET; i++) client.sendRaw(randomFrame(rng));
    }
    await Promise.all(unidentified.map((c) => c.waitFor(() => c.received.length >= MESSAGES_PER_SOCKET)));

    // 2. Hellos with random ids, versions and credentials (missing, forged, another client's).
    const hellos = Array.from({ length: HELLOS }, () => ({
      clientId: rng.next() < 0.7 ? pick(rng, [...credentials.keys(), 'mallory']) : randomString(rng, 20),
      version: rng.next() < 0.8 ? PROTOCOL_VERSION : randomString(rng, 10),
      extra: pick(rng, [
        {},
        { credential: randomString(rng, 60) || 'x' },
        { credential: pick(rng, [...credentials.values()]) },
        { credential: randomValue(rng) },
        { numEvalExamples: randomValue(rng) },
      ]) as Record<string, unknown>,
    }));
    const helloReplies = await inParallel(HELLOS, 8, async (i) => {
      const { clientId, version, extra } = hellos[i]!;
      const client = await opened(coordinator.url);
      client.hello(clientId, version, 10, extra);
      const reply = await client.waitFor(() => client.received.length >= 1);
      client.close();
      // A well-formed hello with the right credential for its id is no attack: it is welcomed.
      const proven =
        typeof extra.credential === 'string' &&
        credentials.get(clientId) === extra.credential &&
        version === PROTOCOL_VERSION;
      return proven
        ? reply.type === 'welcome'
          ? 'welcome'
          : `refused a proven hello: ${JSON.stringify(reply).slice(0, 300)}`
        : errorCodes(client)[0]!;
    });

    // 3. An identified client sending random, damaged messages while no job runs.
    const fuzzer = await opened(coordinator.url);
    fuzzer.hello('fuzzer', PROTOCOL_VERSION, 10, { credential: credentials.get('fuzzer') });
    await fuzzer.waitFor((m) => m.type === 'welcome');
    for (let i = 0; i < IDENTIFIED_MESSAGES; i++) {
      const message = randomMessage(rng, ['fit_res', 'evaluate_res', 'secagg']);
      if (rng.next() < 0.5) message.params = Buffer.from(cryptoRandomBytes(rng.int(100)));
      fuzzer.sendRaw({ f: 'm', msg: message });
    }
    await fuzzer.waitFor(() => fuzzer.received.length >= IDENTIFIED_MESSAGES + 1);
    fuzzer.close();

    // 4. Random API requests, and bytes that are not HTTP at all.
    const apiReplies = await inParallel(API_REQUESTS, 16, async () => {
      const { path, init } = randomRequest(rng, { credential: credentials.get('legit-1')! });
      const response = await fetch(`${coordinator.url}${path}`, init);
      const text = await response.text();
      if (response.status < 400) return 'ok';
      if (init.method === 'HEAD') {
        // No body to read: the same request as a GET must be refused alike, with a typed body.
        const get = await fetch(`${coordinator.url}${path}`, { ...init, method: 'GET' });
        const code = ((await get.json()) as { error?: { code?: unknown } }).error?.code;
        return get.status === response.status && isErrorCode(code) ? code : `HEAD ${response.status}`;
      }
      const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
      return isErrorCode(code) && httpStatusOf(code) === response.status
        ? code
        : `untyped ${response.status} ${text.slice(0, 80)}`;
    });
    const port = Number(new URL(coordinator.url).port);
    const rawReplies = await inParallel(RAW_HTTP, 8, async () => {
      const head = pick(rng, [
        randomString(rng, 200),
        `GET /${randomString(rng, 10)} HTTP/9`,
        'POST /v1/jobs HTTP/1.1\r\nContent-Length: -1',
        // A head that may parse: it asks to close, or keep-alive would hold the socket open.
        `GET /v1/jobs HTTP/1.1\r\nConnection: close\r\n${randomString(rng, 30)}`,
      ]);
      const garbage = Buffer.from(`${head.replaceAll('\r\n\r\n', '')}\r\n\r\n`, 'utf8');
      const answer = await rawHttp(port, garbage);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
      return isErrorCode(code) ? code : `untyped ${answer.slice(0, 80)}`;
    });

    const socketCodes = [...unidentified.flatMap(errorCodes), ...errorCodes(fuzzer).slice(1)];
    expect(socketCodes).toHaveLength(SOCKETS * MESSAGES_PER_SOCKET + IDENTIFIED_MESSAGES);
    expect(socketCodes.filter((code) => !isErrorCode(code))).toEqual([]);
    expect(helloReplies.filter((r) => r !== 'welcome' && !isErrorCode(r))).toEqual([]);
    expect(apiReplies.filter((r) => r !== 'ok' && !isErrorCode(r))).toEqual([]);
    expect(rawReplies.filter((r) => !isErrorCode(r))).toEqual([]);
    // The fuzz did reach past the first checks: several distinct refusals at each edge.
    expect(new Set(socketCodes).size).toBeGreaterThanOrEqual(3);
    expect(new Set(apiReplies).size).toBeGreaterThanOrEqual(5);
    expect(coordinator.enrollments.list().filter((e) => e.revokedAt)).toEqual([]);

    // 5. Still up: a legitimate job completes with the enrolled clients.
    expect((await fetch(`${coordinator.url}/healthz`)).status).toBe(200);
    for (const client of coordinator.clients.all()) client.connection.disconnect();
    const legit = ['legit-1', 'legit-2', 'legit-3'].map(
      (id, i) =>
        new TestClient(coordinator.url, id, arithmeticTrainer(i + 1, 10), CLIENT_TOKEN, credentials.get(id)),
    );
    cleanups.push(() => {
      for (const client of legit) client.close();
    });
    while (coordinator.clients.size < 3) await nextEvent(coordinator, 'client_joined');
    const job = await coordinator.submitJob({
      rounds: 2,
      strategy: { minFitClients: 3 },
      federatedEvaluation: false,
      model: { params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64') },
    });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.status, r.completed])).toEqual([
      ['ok', 3],
      ['ok', 3],
    ]);
    console.log(
      JSON.stringify({
        socketMessages: socketCodes.length + HELLOS,
        apiRequests: API_REQUESTS + RAW_HTTP,
        socketCodes: [...new Set(socketCodes)].sort(),
        helloCodes: [...new Set(helloReplies)].sort(),
        apiCodes: [...new Set([...apiReplies, ...rawReplies])].sort(),
      }),
    );
  }, 180_000); // a bound for a loaded machine; it asserts no speed
});
