import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { encodeParams } from '../params/codec.js';
import type { ModelParams } from '../params/tensors.js';
import type { ClientMessage } from '../protocol/messages.js';
import { seededRandomBytes } from '../random.js';
import type { SecAggPolicy } from '../secagg/policy.js';
import { createSecAggServerRound } from '../secagg/server.js';
import { encodeSecAggMessage } from '../secagg/wire.js';
import { ClientSession } from './client-session.js';
import type { Trainer } from './types.js';

const params = (values: number[]): ModelParams => [
  { name: 'w', shape: [3], values: Float32Array.from(values) },
];

function client(policy: SecAggPolicy) {
  const sent: ClientMessage[] = [];
  let trained = 0;
  const trainer: Trainer = {
    numExamples: 7,
    numEvalExamples: 2,
    backend: 'fake',
    specs: () => [{ name: 'w', shape: [3] }],
    getParameters: async () => ({ params: params([0, 0, 0]), modelTopology: {} }),
    fit: async (global) => {
      trained++;
      return { params: params(Array.from(global[0]!.values, (v) => v + 0.5)), numExamples: 7, metrics: {} };
    },
    evaluate: async () => ({ numExamples: 2, loss: 0, metrics: {} }),
  };
  const session = new ClientSession({
    clientId: 'c0',
    trainer,
    clock: new ManualClock(1000),
    transport: { send: async (m) => void sent.push(m) },
    randomBytes: seededRandomBytes(3),
    secagg: { policy },
  });
  return { session, sent, trained: () => trained };
}

const fitIns = (secureAggregation: boolean) => ({
  type: 'fit_ins',
  jobId: 'job',
  round: 1,
  deadline: 5000,
  ...(secureAggregation ? { secureAggregation } : {}),
  config: { localEpochs: 1, batchSize: 2, learningRate: 0.1, seed: 1 },
  params: encodeParams(params([1, 2, 3])),
});

/** A secure round of 5 (k = 4, t = 3): the task, then the coordinator's setup. */
async function secureRound(session: ClientSession): Promise<void> {
  const round = createSecAggServerRound(
    { dimension: 3, clipRange: 1, quantizationBits: 8, maxWeight: 10 },
    ['c0', 'c1', 'c2', 'c3', 'c4'],
    { round: 1, randomBytes: seededRandomBytes(9) },
  );
  await session.receive(fitIns(true));
  await session.receive({ type: 'secagg', jobId: 'job', round: 1, params: encodeSecAggMessage(round.setup) });
}

/** What the coordinator could learn: any update, plain or masked, or any key that starts a secure round. */
const leaks = (sent: readonly ClientMessage[]) =>
  sent.filter((m) => m.type === 'fit_res' || m.type === 'secagg');

describe('attack: the coordinator asks a client for less protection than the client requires', () => {
  it('a plain round is refused by a client that requires secure aggregation: nothing is trained or sent', async () => {
    const { session, sent, trained } = client({ requireSecureAggregation: true });
    await session.receive(fitIns(false));
    expect(leaks(sent)).toEqual([]);
    expect(trained()).toBe(0);
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'client_error',
        error: expect.objectContaining({ code: 'SECAGG_POLICY_REFUSED' }),
      }),
    ]);
  });

  it.each([
    ['neighbours', { minNeighbours: 6 }],
    ['threshold', { minThreshold: 4 }],
    ['participants', { minParticipants: 8 }],
  ])('a secure round with too few %s is refused before any key goes out', async (_what, policy) => {
    const { session, sent } = client({ requireSecureAggregation: true, ...policy });
    await secureRound(session);
    expect(leaks(sent)).toEqual([]);
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'client_error',
        error: expect.objectContaining({ code: 'SECAGG_POLICY_REFUSED' }),
      }),
    ]);
  });

  it('the same secure round is joined when it meets the policy', async () => {
    const { session, sent } = client({ requireSecureAggregation: true, minNeighbours: 4, minThreshold: 3 });
    await secureRound(session);
    expect(sent.map((m) => m.type)).toEqual(['secagg']);
  });
});
