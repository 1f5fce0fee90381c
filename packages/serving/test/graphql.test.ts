import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FEATURES, MODEL, tinyClassifier } from './fixtures/registered-models.js';
import { API_KEY, type JsonBody, startTestServing, type TestServing } from './fixtures/serving-server.js';

let s: TestServing;
beforeAll(async () => {
  s = await startTestServing();
});
afterAll(async () => {
  await s.stop();
});

const gql = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
  s.call('/graphql', {
    body: { query, ...(variables ? { variables } : {}) },
    ...(headers ? { headers } : {}),
  });

/** A graphql-transport-ws client: resolves each `next` payload in order. */
function subscribe(query: string, payload: Record<string, unknown>) {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: JsonBody[] = [];
  const waiters: ((m: JsonBody) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const next = () =>
    new Promise<JsonBody>((resolve) => {
      const queued = messages.shift();
      if (queued) resolve(queued);
      else waiters.push(resolve);
    });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload }));
      resolve();
    });
    ws.on('error', reject);
  });
  const start = () => ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
  return { ws, next, opened, closed, start };
}

describe('GraphQL', () => {
  it('lists served models with signature, lineage and training metrics per round', async () => {
    const r = await gql(`{ models { name version alias ready inputs { name datatype shape }
      lineage { jobId round metrics { name value } } trainingMetrics { round version metrics { name value } } } }`);
    expect(r.status).toBe(200);
    const tiny = r.body.data.models.find((m: { name: string }) => m.name === MODEL);
    expect(tiny).toMatchObject({
      version: '1',
      alias: 'champion',
      ready: true,
      inputs: [{ name: 'hidden_input', datatype: 'FP32', shape: [-1, FEATURES] }],
      lineage: { jobId: `job-${MODEL}`, round: 1 },
    });
    expect(tiny.trainingMetrics).toEqual([
      { round: 1, version: '1', metrics: [{ name: 'accuracy', value: 0.89 }] },
    ]);
  });

  it('predicts one instance and a batch, naming the version', async () => {
    const one = await gql(
      'query($x: [Float!]!) { predict(model: "tiny", instance: $x) { model version class probabilities } }',
      {
        x: [0.1, 0.2, 0.3, 0.4],
      },
    );
    expect(one.body.data.predict).toMatchObject({ model: MODEL, version: '1' });
    expect(one.body.data.predict.probabilities.reduce((a: number, b: number) => a + b)).toBeCloseTo(1, 5);
    const batch = await gql(
      '{ predictBatch(model: "tiny", instances: [[0.1, 0.2, 0.3, 0.4], [1, -1, 0.5, 2]]) { version predictions { class probabilities } } }',
    );
    expect(batch.body.data.predictBatch.predictions).toHaveLength(2);
    expect(batch.body.data.predictBatch.predictions[0].probabilities).toEqual(
      one.body.data.predict.probabilities,
    );
  });

  it('a repeated query runs compiled (graphql-jit) and answers exactly as the first time, errors included', async () => {
    const query =
      'query($x: [Float!]!) { predict(model: "tiny", instance: $x) { version class probabilities } }';
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push((await gql(query, { x: [0.1, 0.2, 0.3, 0.4] })).body);
    expect(answers[0].data.predict.version).toBe('1');
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    const wrong = [];
    for (let i = 0; i < 3; i += 1) wrong.push((await gql(query, { x: [1, 2] })).body);
    expect(wrong[0].errors[0].extensions).toMatchObject({ code: 'INPUT_SIGNATURE_MISMATCH' });
    expect(wrong[2].errors).toEqual(wrong[0].errors);
    expect(wrong[2].data).toEqual(wrong[0].data);
  });

  it('answers bad input with a GraphQL error carrying the code, and keeps serving', async () => {
    const shape = await gql('{ predict(model: "tiny", instance: [1, 2]) { class } }');
    expect(shape.body.errors[0].extensions).toMatchObject({ code: 'INPUT_SIGNATURE_MISMATCH' });
    const unknown = await gql('{ predict(model: "nope", instance: [1, 2, 3, 4]) { class } }');
    expect(unknown.body.errors[0].extensions).toMatchObject({ code: 'MODEL_NOT_SERVED' });
    const dtype = await gql('{ predict(model: "tiny", instance: ["a", "b", "c", "d"]) { class } }');
    expect(dtype.body.errors[0].message).toMatch(/Float/);
    const missing = await gql('{ predict(model: "tiny") { class } }');
    expect(missing.body.errors[0].message).toMatch(/instance/);
    const bad = await gql('{ models { name } }', undefined, {
      authorization: 'Bearer not-a-valid-key-at-all',
    });
    expect(bad.status).toBe(401);
    expect((await gql('{ models { name } }')).body.data.models).toHaveLength(2);
  });

  it('refuses queries over the cost limit before running them', async () => {
    const fields = Array.from(
      { length: 200 },
      (_, i) => `p${i}: predict(model: "tiny", instance: [1, 2, 3, 4]) { class }`,
    ).join(' ');
    const costly = await gql(`{ ${fields} }`);
    expect(costly.body.data ?? null).toBeNull();
    expect(costly.body.errors[0].message).toBe('query cost of at least 2002 is over the limit of 2000');
    const metrics = await s.call('/metrics');
    expect(metrics.body).not.toMatch(/protocol="graphql",model="tiny",outcome="ok"\} 1[0-9]{2}/);
  });

  it('limits depth and switches introspection off when configured', async () => {
    const strict = await startTestServing({ graphql: { maxDepth: 2, introspection: false } });
    try {
      const call = (query: string) => strict.call('/graphql', { body: { query } });
      const deep = await call('{ models { lineage { metrics { name } } } }');
      expect(deep.body.errors[0].message).toMatch(/depth/i);
      const intro = await call('{ __schema { types { name } } }');
      expect(intro.body.errors[0].message).toMatch(/introspection/i);
      expect((await call('{ models { name } }')).body.data.models).toHaveLength(2);
      const open = await gql('{ __schema { queryType { name } } }');
      expect(open.body.data.__schema.queryType.name).toBe('Query');
    } finally {
      await strict.stop();
    }
  });

  it('refuses a subscription without a valid token', async () => {
    const sub = subscribe('subscription { modelChanged { version } }', {
      authorization: 'Bearer wrong-wrong-wrong-wrong',
    });
    await sub.opened;
    const first = await Promise.race([sub.next(), sub.closed.then((code) => ({ closed: code }))]);
    expect(first).not.toMatchObject({ type: 'connection_ack' });
    sub.ws.close();
  });

  it('fires modelChanged on a swap', async () => {
    const sub = subscribe(
      'subscription { modelChanged(model: "tiny") { model previousVersion version at } }',
      {
        authorization: `Bearer ${API_KEY}`,
      },
    );
    await sub.opened;
    expect((await sub.next()).type).toBe('connection_ack');
    sub.start();
    // The subscription is registered once the server answers a ping after it.
    sub.ws.send(JSON.stringify({ type: 'ping' }));
    expect((await sub.next()).type).toBe('pong');
    const v2 = await s.registry.register(await tinyClassifier(2));
    await s.registry.setChampion(v2);
    await s.serving.core.catalog.refresh();
    const event = await sub.next();
    expect(event).toMatchObject({
      type: 'next',
      payload: { data: { modelChanged: { model: MODEL, previousVersion: '1', version: String(v2) } } },
    });
    sub.ws.close();
  });
});
