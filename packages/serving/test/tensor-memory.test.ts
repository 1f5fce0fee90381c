import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as tf from '@tensorflow/tfjs-core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FEATURES, MODEL } from './fixtures/registered-models.js';
import { API_KEY, startTestServing, type TestServing } from './fixtures/serving-server.js';
import { type Client, failure, inferenceClient, unary } from './grpc/grpc-client.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const ROUNDS = 25;
const x = [0.5, -1, 2, 0.25];

function tensor(rows: number, name = 'hidden_input') {
  return {
    name,
    shape: [rows, FEATURES],
    datatype: 'FP32',
    data: Array.from({ length: rows }, () => x).flat(),
  };
}

/**
 * Every protocol, good and bad requests alike, must leave the tfjs engine holding exactly the tensors
 * it held before: a tensor kept per request is memory that grows under load until the process dies.
 * Counted, not timed: tf.memory() after N requests equals the count after warm-up.
 */
describe('no tensor outlives its request, on any protocol (REST, GraphQL, gRPC, Redis Streams)', () => {
  let s: TestServing;
  let client: Client;
  const redis = new Redis(REDIS_URL);
  const prefix = `fedlearn-test:${randomUUID()}`;
  const streams = { requests: `${prefix}:requests`, results: `${prefix}:results` };
  const auth = new grpc.Metadata();
  auth.set('authorization', `Bearer ${API_KEY}`);

  beforeAll(async () => {
    s = await startTestServing({
      grpc: { enabled: true, port: 0 },
      streams: {
        enabled: true,
        redisUrl: REDIS_URL,
        requestStream: streams.requests,
        resultStream: streams.results,
      },
    });
    client = inferenceClient(`127.0.0.1:${s.serving.grpc!.port}`);
  });
  afterAll(async () => {
    client.close();
    await s.stop();
    await redis.del(streams.requests, streams.results, `${streams.requests}:dead-letter`);
    await redis.quit();
  });

  /** One of each request kind, good and bad; returns how many stream entries it queued. */
  async function everyProtocolOnce(i: number): Promise<void> {
    const rest = await Promise.all([
      s.call(`/v2/models/${MODEL}/infer`, { body: { inputs: [tensor(1 + (i % 3))] } }),
      s.call(`/v1/models/${MODEL}/predict`, { body: { instance: x } }),
      s.call(`/v1/models/${MODEL}/predict-batch`, { body: { instances: [x, x, x] } }),
      s.call(`/v1/models/${MODEL}/explain`, { body: { instance: x, steps: 8 } }),
      s.call(`/v1/models/${MODEL}/explain`, { body: { instance: x, method: 'gradient-x-input' } }),
      s.call('/graphql', {
        body: { query: `{ predict(model: "${MODEL}", instance: [0.5, -1, 2, 0.25]) { version class } }` },
      }),
    ]);
    expect(rest.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const bad = await Promise.all([
      s.call(`/v2/models/${MODEL}/infer`, { body: { inputs: [{ ...tensor(1), shape: [1, 3] }] } }),
      s.call(`/v1/models/${MODEL}/explain`, { body: { instance: x, target: 99 } }),
    ]);
    expect(bad.map((r) => r.status)).toEqual([422, 422]);

    const typed = {
      model_name: MODEL,
      inputs: [
        { name: 'hidden_input', datatype: 'FP32', shape: [1, FEATURES], contents: { fp32_contents: x } },
      ],
    };
    const raw = {
      model_name: MODEL,
      inputs: [{ name: 'hidden_input', datatype: 'FP32', shape: [1, FEATURES] }],
      raw_input_contents: [Buffer.from(Float32Array.from(x).buffer)],
    };
    await unary(client, 'ModelInfer', typed, auth);
    await unary(client, 'ModelInfer', raw, auth);
    await failure(
      unary(client, 'ModelInfer', { ...typed, inputs: [{ ...typed.inputs[0], shape: [2, 4] }] }, auth),
    );
    const stream = (
      client['ModelStreamInfer'] as (m: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>
    )(auth);
    const answered = new Promise<number>((resolve, reject) => {
      let n = 0;
      stream.on('data', () => (n += 1));
      stream.on('end', () => resolve(n));
      stream.on('error', reject);
    });
    stream.write(typed);
    stream.write(raw);
    stream.end();
    expect(await answered).toBe(2);

    await redis.xadd(
      streams.requests,
      '*',
      'model',
      MODEL,
      'token',
      API_KEY,
      'request',
      JSON.stringify({ inputs: [tensor(2)] }),
    );
  }

  async function streamResults(n: number): Promise<void> {
    await vi.waitFor(
      async () => {
        const count = await redis.xlen(streams.results);
        if (count < n) throw new Error(`${count} of ${n} stream results`);
      },
      { timeout: 15_000, interval: 20 },
    );
  }

  it(`tf.memory() is back at its warm-up count after ${ROUNDS} rounds of every request kind`, async () => {
    await everyProtocolOnce(0);
    await streamResults(1);
    const baseline = tf.memory();
    for (let i = 1; i <= ROUNDS; i += 1) await everyProtocolOnce(i);
    await streamResults(ROUNDS + 1);
    const after = tf.memory();
    expect(after.numTensors).toBe(baseline.numTensors);
    expect(after.numBytes).toBe(baseline.numBytes);
  });
});
