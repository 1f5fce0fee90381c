import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ServingCore } from '../../src/serving-core.js';
import { type StreamsWorkerHandle, startStreamsWorker } from '../../src/streams/worker.js';
import { MODEL, type TestRegistry } from '../fixtures/registered-models.js';
import { promoteNewVersion, startRegisteredCore } from '../support/registered-core.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('Redis Streams end to end through the serving core (registered model, real Redis)', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `fedlearn-test:${randomUUID()}`;
  const streams = { requests: `${prefix}:requests`, results: `${prefix}:results`, dead: `${prefix}:dead` };
  let registry: TestRegistry;
  let core: ServingCore;
  let worker: StreamsWorkerHandle;

  beforeAll(async () => {
    ({ registry, core } = await startRegisteredCore());
    worker = await startStreamsWorker(core.service, {
      redis: REDIS_URL,
      requestStream: streams.requests,
      resultStream: streams.results,
      deadLetterStream: streams.dead,
      blockMs: 20,
    });
  });
  afterAll(async () => {
    await worker.close();
    core.close();
    await registry.cleanup();
    await redis.del(streams.requests, streams.results, streams.dead);
    await redis.quit();
  });

  it('answers with the champion, then the new champion after a swap; a signature mismatch is a dead letter', async () => {
    const body = (width: number) =>
      JSON.stringify({
        inputs: [
          { name: 'hidden_input', datatype: 'FP32', shape: [1, width], data: new Array(width).fill(0.5) },
        ],
      });
    await redis.xadd(streams.requests, '*', 'model', MODEL, 'id', 'first', 'request', body(4));
    const count = async (stream: string, n: number) =>
      vi.waitFor(
        async () => {
          const entries = (await redis.xrange(stream, '-', '+')) as [string, string[]][];
          if (entries.length < n) throw new Error('waiting');
          return entries.map(([, f]) =>
            Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))),
          );
        },
        { timeout: 15_000, interval: 20 },
      );
    expect((await count(streams.results, 1))[0]).toMatchObject({ id: 'first', model: MODEL, version: '1' });

    const v2 = await promoteNewVersion(registry, core, 2);
    await redis.xadd(streams.requests, '*', 'model', MODEL, 'id', 'second', 'request', body(4));
    await redis.xadd(streams.requests, '*', 'model', MODEL, 'id', 'narrow', 'request', body(3));
    expect((await count(streams.results, 2))[1]).toMatchObject({ id: 'second', version: String(v2) });
    const [dead] = await count(streams.dead, 1);
    expect(dead).toMatchObject({ code: 'INPUT_SIGNATURE_MISMATCH', deliveries: '1' });
  });
});
