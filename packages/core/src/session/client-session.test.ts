import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { decodeParams, encodeParams } from '../params/codec.js';
import type { ModelParams } from '../params/tensors.js';
import type { ClientMessage } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { ClientSession } from './client-session.js';
import type { SessionEvent, Trainer } from './types.js';

const specs = [{ name: 'w', shape: [3] }];
const params = (values: number[]): ModelParams => [
  { name: 'w', shape: [3], values: Float32Array.from(values) },
];

/** A trainer that adds 1 to every weight, or fails when told to. */
function fakeTrainer(fail = false): Trainer {
  return {
    numExamples: 7,
    numEvalExamples: 2,
    backend: 'fake',
    specs: () => specs,
    getParameters: async () => ({ params: params([0, 0, 0]), modelTopology: { class_name: 'Sequential' } }),
    fit: async (global) => {
      if (fail) throw new Error('diverged');
      return {
        params: params(Array.from(global[0]!.values, (v) => v + 1)),
        numExamples: 7,
        metrics: { loss: 0.5 },
      };
    },
    // The loss depends on the weights and the batch size, so a test can tell which model was evaluated.
    evaluate: async (global, config) => ({
      numExamples: 2,
      loss: global[0]!.values.reduce((sum, v) => sum + v, 0) / config.batchSize,
      metrics: { accuracy: 0.75 },
    }),
  };
}

function setup(trainer = fakeTrainer()) {
  const sent: ClientMessage[] = [];
  const events: SessionEvent[] = [];
  const clock = new ManualClock(1000);
  const session = new ClientSession({
    clientId: 'c1',
    trainer,
    clock,
    transport: { send: async (m) => void sent.push(m) },
    onEvent: (e) => events.push(e),
  });
  return { session, sent, events, clock };
}

const fitIns = (round: number, deadline = 5000) => ({
  type: 'fit_ins',
  jobId: 'job',
  round,
  deadline,
  config: { localEpochs: 1, batchSize: 2, learningRate: 0.1, seed: 1 },
  params: encodeParams(params([1, 2, 3])),
});

describe('ClientSession', () => {
  it('says hello with the protocol version and its data sizes, and reports the welcome', async () => {
    const { session, sent, events } = setup();
    await session.connected();
    expect(sent[0]).toMatchObject({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'c1',
      numExamples: 7,
    });
    await session.receive({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      serverId: 's',
      heartbeatIntervalMs: 1234,
    });
    expect(events.at(-1)).toEqual({ type: 'welcome', serverId: 's', heartbeatIntervalMs: 1234 });
  });

  it('proves its id with its enrollment credential in every hello, and sends none without one', async () => {
    const sent: ClientMessage[] = [];
    const session = new ClientSession({
      clientId: 'c1',
      trainer: fakeTrainer(),
      credential: 'issued-at-enrollment',
      transport: { send: async (m) => void sent.push(m) },
    });
    await session.connected();
    await session.connected();
    expect(sent.map((m) => (m.type === 'hello' ? m.credential : m.type))).toEqual([
      'issued-at-enrollment',
      'issued-at-enrollment',
    ]);
    const plain = setup();
    await plain.session.connected();
    expect(plain.sent[0]).not.toHaveProperty('credential');
  });

  it('trains on fit_ins and uploads the new weights', async () => {
    const { session, sent, events } = setup();
    await session.receive(fitIns(1));
    const res = sent[0]!;
    expect(res.type).toBe('fit_res');
    if (res.type !== 'fit_res') return;
    expect(res.round).toBe(1);
    expect(Array.from(decodeParams(res.params)[0]!.values)).toEqual([2, 3, 4]);
    expect(events.map((e) => e.type)).toEqual(['fit_start', 'fit_done']);
  });

  it('evaluates the model it was sent and answers get_parameters', async () => {
    const { session, sent, events } = setup();
    await session.receive({
      type: 'evaluate_ins',
      jobId: 'job',
      round: 3,
      deadline: 5000,
      config: { batchSize: 4 },
      params: encodeParams(params([1, 2, 3])),
    });
    await session.receive({ type: 'get_parameters_ins', requestId: 'r1' });
    expect(sent.map((m) => m.type)).toEqual(['evaluate_res', 'get_parameters_res']);
    // (1 + 2 + 3) / batch 4: the trainer's result for exactly the sent weights and config.
    expect(sent[0]).toEqual({
      type: 'evaluate_res',
      jobId: 'job',
      round: 3,
      numExamples: 2,
      loss: 1.5,
      metrics: { accuracy: 0.75 },
    });
    expect(events.find((e) => e.type === 'evaluate_done')).toEqual({
      type: 'evaluate_done',
      jobId: 'job',
      round: 3,
      loss: 1.5,
      metrics: { accuracy: 0.75 },
    });
    expect(sent[1]).toMatchObject({ requestId: 'r1', modelTopology: { class_name: 'Sequential' } });
  });

  it('skips a task whose deadline passed instead of running it late', async () => {
    const { session, sent, events, clock } = setup();
    clock.advance(10_000);
    await session.receive(fitIns(1, 5000));
    expect(sent).toEqual([]);
    expect(events[0]).toMatchObject({ type: 'task_skipped', round: 1 });
  });

  it('reports weights of the wrong shape to the server as a typed client error', async () => {
    const { session, sent } = setup();
    const wrong = {
      ...fitIns(1),
      params: encodeParams([{ name: 'w', shape: [4], values: new Float32Array(4) }]),
    };
    await session.receive(wrong);
    expect(sent[0]).toMatchObject({
      type: 'client_error',
      round: 1,
      error: { code: 'PARAMS_SHAPE_MISMATCH' },
    });
  });

  it('reports a training failure as TRAINING_FAILED', async () => {
    const { session, sent } = setup(fakeTrainer(true));
    await session.receive(fitIns(2));
    expect(sent[0]).toMatchObject({
      type: 'client_error',
      round: 2,
      error: { code: 'TRAINING_FAILED', message: 'diverged' },
    });
  });

  it('ignores malformed server messages without crashing, and records fatal errors', async () => {
    const { session, sent, events } = setup();
    await session.receive({ type: 'fit_ins', round: 'x' });
    expect(sent).toEqual([]);
    expect(events[0]).toMatchObject({ type: 'task_failed', code: 'MALFORMED_MESSAGE' });
    await session.receive({
      type: 'error',
      error: { code: 'PROTOCOL_VERSION_MISMATCH', message: 'old' },
      fatal: true,
    });
    expect(session.fatal?.code).toBe('PROTOCOL_VERSION_MISMATCH');
  });

  it('understands an error code from a newer coordinator as a generic error with its message', async () => {
    const { session, events } = setup();
    await session.receive({
      type: 'error',
      error: { code: 'COORDINATOR_DRAINING', message: 'the coordinator is shutting down' },
      fatal: true,
    });
    expect(events).toEqual([
      { type: 'server_error', code: 'INTERNAL', message: 'the coordinator is shutting down', fatal: true },
    ]);
    expect(session.fatal?.message).toBe('the coordinator is shutting down');
  });
});
