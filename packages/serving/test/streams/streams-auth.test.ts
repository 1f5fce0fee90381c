import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { type StreamsWorkerHandle, startStreamsWorker } from '../../src/streams/worker.js';
import { TinyModelService } from '../support/tiny-model-service.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL);
const KEY_A = 'tenant-a-stream-key-0123456789';
const KEY_B = 'tenant-b-stream-key-0123456789';
const BODY = JSON.stringify({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
});

type Entry = [string, string[]];

function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

async function entries(stream: string): Promise<Record<string, string>[]> {
  return ((await redis.xrange(stream, '-', '+')) as Entry[]).map(([, f]) => fields(f));
}

/** Polls until the streams hold n entries together; no fixed sleeps. */
async function untilTotal(streams: string[], n: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const total = (await Promise.all(streams.map((s) => redis.xlen(s)))).reduce((a, b) => a + b, 0);
      if (total < n) throw new Error(`${total} of ${n} entries`);
    },
    { timeout: 15_000, interval: 20 },
  );
}

describe('Redis Streams auth and rate limit (attacks on the real Redis at 127.0.0.1:6379)', () => {
  let names: { requests: string; results: string; dead: string };
  let worker: StreamsWorkerHandle | undefined;
  let service: TinyModelService;

  beforeEach(async () => {
    const prefix = `fedlearn-test:${randomUUID()}`;
    names = { requests: `${prefix}:requests`, results: `${prefix}:results`, dead: `${prefix}:dead` };
    service = new TinyModelService();
    const authenticator = createAuthenticator({ mode: 'api-key', apiKeys: [KEY_A, KEY_B], jwt: {} });
    worker = await startStreamsWorker(service, {
      redis: REDIS_URL,
      requestStream: names.requests,
      resultStream: names.results,
      deadLetterStream: names.dead,
      group: 'serving',
      blockMs: 20,
      authenticate: (token) => authenticator.authenticate(token),
      rateLimit: { max: 2, windowMs: 60_000, now: () => 0 },
    });
  });
  afterEach(async () => {
    await worker?.close();
    await redis.del(names.requests, names.results, names.dead);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('an entry without a token, or with a forged one, is dead-lettered UNAUTHORIZED without running, and the token is not copied', async () => {
    const calls = service.calls;
    await redis.xadd(names.requests, '*', 'model', 'tiny', 'id', 'none', 'request', BODY);
    await redis.xadd(
      names.requests,
      '*',
      'model',
      'tiny',
      'id',
      'forged',
      'token',
      'guessed-token',
      'request',
      BODY,
    );
    await untilTotal([names.dead], 2);
    const dead = await entries(names.dead);
    expect(dead.map((d) => d['code'])).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED']);
    expect(dead.every((d) => !JSON.stringify(d).includes('guessed-token'))).toBe(true);
    expect(JSON.parse(dead[1]!['fields']!)).toEqual({ model: 'tiny', id: 'forged', request: BODY });
    expect(await redis.xlen(names.results)).toBe(0);
    expect(service.calls).toBe(calls);

    await redis.xadd(names.requests, '*', 'model', 'tiny', 'id', 'good', 'token', KEY_A, 'request', BODY);
    await untilTotal([names.results], 1);
    const [result] = await entries(names.results);
    expect(result).toMatchObject({ id: 'good', model: 'tiny', version: '1' });
    expect(JSON.stringify(result)).not.toContain(KEY_A);
  });

  it('a tenant over its limit is dead-lettered RATE_LIMITED; another tenant is still answered', async () => {
    for (let i = 0; i < 5; i += 1) {
      await redis.xadd(names.requests, '*', 'model', 'tiny', 'id', `a${i}`, 'token', KEY_A, 'request', BODY);
    }
    await redis.xadd(names.requests, '*', 'model', 'tiny', 'id', 'b0', 'token', KEY_B, 'request', BODY);
    await untilTotal([names.results, names.dead], 6);
    const results = await entries(names.results);
    const dead = await entries(names.dead);
    expect(results.filter((r) => r['id']!.startsWith('a'))).toHaveLength(2);
    expect(results.map((r) => r['id'])).toContain('b0');
    expect(dead).toHaveLength(3);
    expect(dead.every((d) => d['code'] === 'RATE_LIMITED' && d['deliveries'] === '1')).toBe(true);
    expect(dead.every((d) => !JSON.stringify(d).includes(KEY_A))).toBe(true);
  });
});
