import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createServingMetrics } from '../../src/metrics/serving-metrics.js';
import {
  type StreamsWorkerEvent,
  type StreamsWorkerHandle,
  startStreamsWorker,
} from '../../src/streams/worker.js';
import { directPredict, TinyModelService } from '../support/tiny-model-service.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL);
const GROUP = 'serving';
const ROW = [0.5, -0.25, 1, 2];

type Entry = [string, string[]];

function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function requestBody(row = ROW, datatype = 'FP32'): string {
  return JSON.stringify({ inputs: [{ name: 'input', datatype, shape: [1, 4], data: row }] });
}

async function entries(stream: string): Promise<Record<string, string>[]> {
  return ((await redis.xrange(stream, '-', '+')) as Entry[]).map(([, f]) => fields(f));
}

async function pendingCount(stream: string): Promise<number> {
  const summary = (await redis.xpending(stream, GROUP)) as [number, ...unknown[]];
  return summary[0];
}

/** Polls until the stream holds n entries; no fixed sleeps. */
async function until(stream: string, n: number): Promise<Record<string, string>[]> {
  return vi.waitFor(
    async () => {
      const found = await entries(stream);
      if (found.length < n) throw new Error(`${stream}: ${found.length} of ${n} entries`);
      return found;
    },
    { timeout: 15_000, interval: 20 },
  );
}

describe('Redis Streams worker (the real Redis at 127.0.0.1:6379)', () => {
  let names: { requests: string; results: string; dead: string };
  const workers: StreamsWorkerHandle[] = [];
  let service: TinyModelService;
  const events: StreamsWorkerEvent[] = [];

  beforeEach(() => {
    const prefix = `fedlearn-test:${randomUUID()}`;
    names = { requests: `${prefix}:requests`, results: `${prefix}:results`, dead: `${prefix}:dead` };
    service = new TinyModelService();
    events.length = 0;
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await redis.del(names.requests, names.results, names.dead);
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function start(extra: Partial<Parameters<typeof startStreamsWorker>[1]> = {}) {
    const worker = await startStreamsWorker(service, {
      redis: REDIS_URL,
      requestStream: names.requests,
      resultStream: names.results,
      deadLetterStream: names.dead,
      group: GROUP,
      blockMs: 20,
      onEvent: (e) => events.push(e),
      ...extra,
    });
    workers.push(worker);
    return worker;
  }

  it('answers requests through a consumer group: result names request id, model and version; entry acked', async () => {
    await start();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(
        (await redis.xadd(names.requests, '*', 'model', 'tiny', 'id', `r${i}`, 'request', requestBody()))!,
      );
    }
    const results = await until(names.results, 3);
    expect(results.map((r) => r['id'])).toEqual(['r0', 'r1', 'r2']);
    expect(results.map((r) => r['entry'])).toEqual(ids);
    const expected = Array.from(directPredict(service.models.get('tiny')!.model, [ROW]));
    for (const r of results) {
      expect(r['model']).toBe('tiny');
      expect(r['version']).toBe('1');
      const response = JSON.parse(r['response']!);
      expect(response).toMatchObject({ model_name: 'tiny', model_version: '1', id: r['id'] });
      expect(response.outputs[0].data).toEqual(expected);
    }
    await vi.waitFor(async () => expect(await pendingCount(names.requests)).toBe(0));
    expect(await redis.xlen(names.dead)).toBe(0);
  });

  it('several workers share one group and every request is answered exactly once', async () => {
    await start({ count: 2 });
    await start({ count: 2 });
    const ids = new Set<string>();
    for (let i = 0; i < 30; i += 1) {
      ids.add((await redis.xadd(names.requests, '*', 'model', 'tiny', 'request', requestBody()))!);
    }
    const results = await until(names.results, 30);
    expect(results).toHaveLength(30);
    expect(new Set(results.map((r) => r['entry']))).toEqual(ids);
    const groups = (await redis.xinfo('GROUPS', names.requests)) as unknown[][];
    expect(groups).toHaveLength(1);
    await vi.waitFor(async () => expect(await pendingCount(names.requests)).toBe(0));
  });

  it('claims the entries a dead consumer left pending (XAUTOCLAIM) and answers them', async () => {
    await redis.xgroup('CREATE', names.requests, GROUP, '0', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await redis.xadd(names.requests, '*', 'model', 'tiny', 'request', requestBody()))!);
    }
    // A consumer reads them and dies without acknowledging.
    await redis.xreadgroup('GROUP', GROUP, 'dead-consumer', 'COUNT', 10, 'STREAMS', names.requests, '>');
    expect(await pendingCount(names.requests)).toBe(3);

    const worker = await start({ claimIdleMs: 1 });
    const results = await until(names.results, 3);
    expect(results.map((r) => r['entry'])).toEqual(ids);
    const claimed = events.flatMap((e) => (e.type === 'claimed' ? e.entries : []));
    expect(claimed).toEqual(ids);
    await vi.waitFor(async () => expect(await pendingCount(names.requests)).toBe(0));
    const consumers = (await redis.xinfo('CONSUMERS', names.requests, GROUP)) as unknown[][];
    const pendingOf = (name: string) => {
      const c = consumers
        .map(fields as (f: unknown) => Record<string, unknown>)
        .find((x) => x['name'] === name);
      return c?.['pending'];
    };
    expect(pendingOf('dead-consumer')).toBe(0);
    expect(pendingOf(worker.consumer)).toBe(0);
  });

  it('dead-letters malformed and refused entries at once, with the reason, and keeps serving', async () => {
    const metrics = createServingMetrics();
    metrics.setVersionInUse('tiny', 1); // what the model catalog reports when it loads a version
    await start({ metrics });
    const bad = [
      ['request', requestBody()],
      ['model', 'tiny', 'request', '{not json'],
      ['model', 'tiny', 'request', requestBody(ROW, 'INT64')],
      ['model', 'tiny', 'request', requestBody([1, 2, Number.NaN as unknown as number, 4])],
      ['model', 'nope', 'request', requestBody()],
      [
        'model',
        'tiny',
        'request',
        JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }),
      ],
    ];
    const ids: string[] = [];
    for (const f of bad) ids.push((await redis.xadd(names.requests, '*', ...f))!);
    const dead = await until(names.dead, bad.length);
    expect(dead.map((d) => d['entry'])).toEqual(ids);
    expect(dead.map((d) => d['code'])).toEqual([
      'MALFORMED_MESSAGE',
      'MALFORMED_MESSAGE',
      'MALFORMED_MESSAGE',
      'MALFORMED_MESSAGE',
      'MODEL_NOT_SERVED',
      'INPUT_SIGNATURE_MISMATCH',
    ]);
    expect(dead[0]!['reason']).toBe('field "model" is missing');
    expect(dead[1]!['reason']).toBe('field "request" is not JSON');
    expect(dead[2]!['reason']).toMatch(/^request\.inputs\.0\.datatype/);
    expect(dead.every((d) => d['deliveries'] === '1')).toBe(true);
    // Nothing is lost: the original fields travel with the dead letter.
    expect(JSON.parse(dead[1]!['fields']!)).toEqual({ model: 'tiny', request: '{not json' });
    expect(await redis.xlen(names.results)).toBe(0);

    await redis.xadd(names.requests, '*', 'model', 'tiny', 'request', requestBody());
    expect((await until(names.results, 1))[0]!['version']).toBe('1');
    await vi.waitFor(async () => expect(await pendingCount(names.requests)).toBe(0));
    const counted = await metrics.registry.getSingleMetricAsString('fedlearn_serving_requests_total');
    expect(counted).toMatch(/\{protocol="streams",model="tiny",outcome="MALFORMED_MESSAGE"\} 3/);
    expect(counted).toMatch(/\{protocol="streams",model="tiny",outcome="ok"\} 1/);
  });

  it('retries a failing entry through XAUTOCLAIM and dead-letters it after maxDeliveries', async () => {
    service.failNext = 3;
    await start({ claimIdleMs: 1, maxDeliveries: 3 });
    const id = (await redis.xadd(names.requests, '*', 'model', 'tiny', 'request', requestBody()))!;
    const [dead] = await until(names.dead, 1);
    expect(dead).toMatchObject({ entry: id, code: 'INTERNAL', reason: 'injected failure', deliveries: '3' });
    expect(
      events.filter((e) => e.type === 'retry').map((e) => (e as { deliveries: number }).deliveries),
    ).toEqual([1, 2]);
    expect(await redis.xlen(names.results)).toBe(0);
    await vi.waitFor(async () => expect(await pendingCount(names.requests)).toBe(0));
  });

  it('a transient failure that clears on redelivery is answered, not dead-lettered', async () => {
    service.failNext = 1;
    await start({ claimIdleMs: 1, maxDeliveries: 3 });
    const id = (await redis.xadd(names.requests, '*', 'model', 'tiny', 'request', requestBody()))!;
    const [result] = await until(names.results, 1);
    expect(result!['entry']).toBe(id);
    expect(await redis.xlen(names.dead)).toBe(0);
  });

  it('dead-letters an entry already delivered more than maxDeliveries times without being tried again', async () => {
    await redis.xgroup('CREATE', names.requests, GROUP, '0', 'MKSTREAM');
    const id = (await redis.xadd(names.requests, '*', 'model', 'tiny', 'request', requestBody()))!;
    await redis.xreadgroup('GROUP', GROUP, 'crashing-consumer', 'STREAMS', names.requests, '>');
    await redis.xclaim(names.requests, GROUP, 'crashing-consumer', 0, id);
    await redis.xclaim(names.requests, GROUP, 'crashing-consumer', 0, id);
    const calls = service.calls;
    await start({ claimIdleMs: 1, maxDeliveries: 3 });
    const [dead] = await until(names.dead, 1);
    expect(dead).toMatchObject({ entry: id, code: 'INTERNAL', deliveries: '4' });
    expect(dead!['reason']).toBe('delivered 4 times without an answer');
    expect(service.calls).toBe(calls);
  });
});
