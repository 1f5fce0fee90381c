import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSES, FEATURES, MODEL, tinyClassifier } from './fixtures/registered-models.js';
import { API_KEY, LINEAR, startTestServing, type TestServing } from './fixtures/serving-server.js';

let s: TestServing;
let reference: tfl.LayersModel;
const x = [
  [0.1, 0.2, 0.3, 0.4],
  [1, -1, 0.5, 2],
];

beforeAll(async () => {
  s = await startTestServing();
  const a = await tinyClassifier(1);
  const weightData = a.weightData.buffer.slice(
    a.weightData.byteOffset,
    a.weightData.byteOffset + a.weightData.byteLength,
  ) as ArrayBuffer;
  reference = await tfl.loadLayersModel(tf.io.fromMemory({ ...a, weightData }));
});
afterAll(async () => {
  reference.dispose();
  await s.stop();
});

function expected(rows: number[][]): number[] {
  return tf.tidy(() => Array.from((reference.predict(tf.tensor2d(rows)) as tf.Tensor).dataSync()));
}

const infer = (inputs: unknown[], extra: Record<string, unknown> = {}) => ({ id: 'req-1', inputs, ...extra });
const good = { name: 'hidden_input', shape: [2, FEATURES], datatype: 'FP32', data: x.flat() };

describe('Open Inference Protocol v2 over REST', () => {
  it('answers health without credentials, server metadata and model metadata with them', async () => {
    expect((await s.call('/v2/health/live', { headers: {} })).status).toBe(200);
    expect((await s.call('/v2/health/ready', { headers: {} })).status).toBe(200);
    expect((await s.call('/v2')).body).toMatchObject({ name: 'fedlearn', extensions: [] });
    const meta = await s.call(`/v2/models/${MODEL}`);
    expect(meta.body).toEqual({
      name: MODEL,
      versions: ['1'],
      platform: 'tfjs',
      inputs: [{ name: 'hidden_input', datatype: 'FP32', shape: [-1, FEATURES] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, CLASSES] }],
    });
    expect((await s.call(`/v2/models/${MODEL}/versions/1/ready`)).body).toEqual({ name: MODEL, ready: true });
    expect((await s.call(`/v2/models/${MODEL}/versions/2`)).status).toBe(404);
  });

  it('infers exactly what the model computes, naming model and version', async () => {
    const r = await s.call(`/v2/models/${MODEL}/infer`, { body: infer([good]) });
    expect(r.status).toBe(200);
    expect(r.body.model_name).toBe(MODEL);
    expect(r.body.model_version).toBe('1');
    expect(r.body.id).toBe('req-1');
    expect(r.body.outputs[0]).toMatchObject({ name: 'output', datatype: 'FP32', shape: [2, CLASSES] });
    expect(r.body.outputs[0].data).toEqual(expected(x).map((v) => Math.fround(v)));
    const nested = await s.call(`/v2/models/${MODEL}/versions/1/infer`, {
      body: infer([{ ...good, data: x }]),
    });
    expect(nested.body.outputs[0].data).toEqual(r.body.outputs[0].data);
  });

  it('refuses bad input with 4xx and an {"error"} body naming the field, and keeps serving', async () => {
    const cases: [unknown, number, RegExp][] = [
      [infer([{ ...good, shape: [2, FEATURES + 1] }]), 422, /inputs\[0\]\.shape\[1\]: expected 4/],
      [infer([{ ...good, datatype: 'INT32' }]), 422, /inputs\[0\]\.datatype: the model takes FP32/],
      [infer([{ ...good, name: 'pixels' }]), 422, /inputs\[0\]\.name/],
      [
        infer([{ ...good, data: [...x.flat().slice(1), 'a'] }]),
        422,
        /inputs\[0\]\.data\[7\]: must be a number/,
      ],
      [
        infer([{ ...good, data: x.flat().slice(1) }]),
        422,
        /inputs\[0\]\.data: shape \[2,4\] needs 8 values, got 7/,
      ],
      [
        infer([{ name: 'hidden_input', shape: [2, FEATURES], datatype: 'FP32' }]),
        400,
        /body\.inputs\.0\.data|data/,
      ],
      [{ id: 'x' }, 400, /inputs/],
      ['{"inputs": [', 400, /.+/],
    ];
    for (const [body, status, message] of cases) {
      const r = await s.call(`/v2/models/${MODEL}/infer`, { body });
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(Object.keys(r.body)).toEqual(['error']);
      expect(r.body.error).toMatch(message);
      expect(r.body.error).not.toContain('0.1');
    }
    const unknown = await s.call('/v2/models/nope/infer', { body: infer([good]) });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/not served/);
    expect((await s.call(`/v2/models/${MODEL}/infer`, { body: infer([good]) })).status).toBe(200);
  });

  it('refuses an oversized body with 413', async () => {
    const big = { inputs: [{ ...good, shape: [600_000, FEATURES], data: new Array(2_400_000).fill(0.5) }] };
    const r = await s.call(`/v2/models/${MODEL}/infer`, { body: big });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({ error: 'request body is larger than the server accepts' });
  });

  it('refuses a request that claims a WebSocket upgrade to skip authentication (attack)', async () => {
    // Through fastify's request path (fetch will not send an Upgrade header).
    const headers = { upgrade: 'websocket', connection: 'upgrade' };
    const status = async (method: 'GET' | 'POST', url: string, payload?: object) =>
      (await s.serving.http.inject({ method, url, headers, ...(payload ? { payload } : {}) })).statusCode;
    expect(await status('POST', `/v2/models/${MODEL}/infer`, infer([good]))).toBe(401);
    expect(await status('POST', '/graphql', { query: '{ models { name } }' })).toBe(401);
    expect(await status('GET', '/metrics')).toBe(401);
  });

  it('refuses a missing or wrong token with 401 on every protocol route', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-key-0123456789abcdef' },
      { 'x-api-key': `${API_KEY}x` },
    ];
    for (const headers of attempts) {
      expect((await s.call(`/v2/models/${MODEL}/infer`, { body: infer([good]), headers })).status).toBe(401);
      expect(
        (await s.call(`/v1/models/${MODEL}/predict`, { body: { instance: x[0] }, headers })).status,
      ).toBe(401);
      expect((await s.call('/graphql', { body: { query: '{ models { name } }' }, headers })).status).toBe(
        401,
      );
      expect((await s.call('/metrics', { headers })).status).toBe(401);
    }
    expect(
      (
        await s.call(`/v1/models/${MODEL}/predict`, {
          body: { instance: x[0] },
          headers: { 'x-api-key': API_KEY },
        })
      ).status,
    ).toBe(200);
  });
});

describe('friendly REST API', () => {
  it('predicts one instance: class, probabilities, model and version', async () => {
    const r = await s.call(`/v1/models/${MODEL}/predict`, {
      body: { instance: x[1] },
      headers: { authorization: `Bearer ${API_KEY}`, 'x-request-id': 'abc-1' },
    });
    expect(r.status).toBe(200);
    const probs = expected([x[1]!]).map((v) => Math.fround(v));
    expect(r.body).toEqual({
      id: 'abc-1',
      model: MODEL,
      version: '1',
      class: probs.indexOf(Math.max(...probs)),
      probabilities: probs,
    });
    expect(r.headers.get('x-request-id')).toBe('abc-1');
  });

  it('predicts a batch in one version', async () => {
    const r = await s.call(`/v1/models/${MODEL}/predict-batch`, { body: { instances: x } });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('1');
    expect(r.body.predictions.flatMap((p: { probabilities: number[] }) => p.probabilities)).toEqual(
      expected(x).map((v) => Math.fround(v)),
    );
  });

  it('names the field for bad friendly input', async () => {
    const short = await s.call(`/v1/models/${MODEL}/predict`, { body: { instance: [1, 2] } });
    expect(short.status).toBe(422);
    expect(short.body).toMatchObject({ code: 'INPUT_SIGNATURE_MISMATCH', field: 'instance' });
    const missing = await s.call(`/v1/models/${MODEL}/predict`, { body: { values: [1, 2, 3, 4] } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/instance/);
    const batch = await s.call(`/v1/models/${MODEL}/predict-batch`, { body: { instances: [x[0], [1]] } });
    expect(batch.status).toBe(422);
    expect(batch.body.field).toBe('instances[1]');
    const named = await s.call(`/v1/models/${MODEL}/predict`, { body: { instance: { a: 1 } } });
    expect(named.status).toBe(422);
    expect(named.body.error).toMatch(/no feature names/);
  });

  it('explains with gradient × input: for a linear layer, exactly weight × input', async () => {
    const instance = [0.5, -1, 2, 0.25];
    const r = await s.call(`/v1/models/${LINEAR}/explain`, {
      body: { instance, method: 'gradient-x-input', target: 2 },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model: LINEAR, version: '1', method: 'gradient-x-input', target: 2 });
    const a = await tinyClassifier(7, { linear: true });
    const kernel = new Float32Array(
      a.weightData.buffer.slice(a.weightData.byteOffset, a.weightData.byteOffset + FEATURES * CLASSES * 4),
    );
    const want = instance.map((v, i) => kernel[i * CLASSES + 2]! * v);
    for (const [i, v] of (r.body.attributions as number[]).entries()) expect(v).toBeCloseTo(want[i]!, 5);
  });

  it('explains with integrated gradients: attributions add up to f(x) - f(baseline)', async () => {
    const instance = x[1]!;
    const r = await s.call(`/v1/models/${MODEL}/explain`, { body: { instance, steps: 256 } });
    expect(r.status).toBe(200);
    expect(r.body.method).toBe('integrated-gradients');
    const target = r.body.target as number;
    expect(target).toBe(r.body.class);
    const gap = expected([instance])[target]! - expected([[0, 0, 0, 0]])[target]!;
    const sum = r.body.attributions.reduce((a: number, b: number) => a + b, 0);
    expect(Math.abs(sum - gap)).toBeLessThan(0.01 + Math.abs(gap) * 0.02);
    expect(r.body.attributions).toHaveLength(FEATURES);
    const bad = await s.call(`/v1/models/${MODEL}/explain`, { body: { instance, target: CLASSES } });
    expect(bad.status).toBe(422);
  });

  it('publishes OpenAPI at /docs and counts requests in /metrics', async () => {
    const doc = await s.call('/docs/json', { headers: {} });
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v2/models/{name}/infer',
        '/v1/models/{name}/predict',
        '/v1/models/{name}/explain',
      ]),
    );
    const metrics = await s.call('/metrics');
    expect(metrics.body).toMatch(
      new RegExp(`fedlearn_serving_requests_total\\{protocol="rest",model="${MODEL}",outcome="ok"\\} [1-9]`),
    );
    expect(metrics.body).toMatch(
      new RegExp(`fedlearn_serving_requests_total\\{protocol="rest",model="${MODEL}",outcome="422"\\} [1-9]`),
    );
    expect(metrics.body).toContain(`fedlearn_serving_model_version{model="${MODEL}"} 1`);
  });
});

describe('rate limit', () => {
  it('answers 429 once a client spends its budget, per client', async () => {
    const limited = await startTestServing({
      rateLimit: { max: 3, windowMs: 60_000 },
      auth: { mode: 'api-key', apiKeys: [API_KEY, 'second-key-0123456789abcdef'] },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push(
          (await limited.call(`/v1/models/${MODEL}/predict`, { body: { instance: x[0] } })).status,
        );
      expect(statuses).toEqual([200, 200, 200, 429]);
      const other = await limited.call(`/v1/models/${MODEL}/predict`, {
        body: { instance: x[0] },
        headers: { 'x-api-key': 'second-key-0123456789abcdef' },
      });
      expect(other.status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
