import { describe, expect, it } from 'vitest';
import { encodeParams } from '../params/codec.js';
import type { ModelParams } from '../params/tensors.js';
import type { ClientMessage } from '../protocol/messages.js';
import { seededRandomBytes } from '../random.js';
import type { SecAggServerStep } from '../secagg/round-types.js';
import { createSecAggServerRound } from '../secagg/server.js';
import { decodeSecAggMessage, encodeSecAggMessage } from '../secagg/wire.js';
import { ClientSession } from './client-session.js';
import type { Trainer } from './types.js';

const params = (values: number[]): ModelParams => [
  { name: 'w', shape: [3], values: Float32Array.from(values) },
];

/** Adds `delta` to every weight, on `examples` examples. */
function trainer(delta: number, examples: number): Trainer {
  return {
    numExamples: examples,
    numEvalExamples: 0,
    backend: 'fake',
    specs: () => [{ name: 'w', shape: [3] }],
    getParameters: async () => ({ params: params([0, 0, 0]), modelTopology: {} }),
    fit: async (global) => ({
      params: params(Array.from(global[0]!.values, (v) => v + delta)),
      numExamples: examples,
      metrics: {},
    }),
    evaluate: async () => ({ numExamples: 0, loss: 0, metrics: {} }),
  };
}

describe('ClientSession in a secure round', () => {
  it('uploads no weights, only SecAgg+ messages, and the sum is the weighted sum of the deltas', async () => {
    const ids = ['a', 'b', 'c'];
    const server = createSecAggServerRound(
      { dimension: 3, clipRange: 4, quantizationBits: 16, maxWeight: 10 },
      ids,
      { round: 2, randomBytes: seededRandomBytes(1) },
    );
    const sent: { from: string; message: ClientMessage }[] = [];
    const sessions = ids.map(
      (clientId, i) =>
        new ClientSession({
          clientId,
          trainer: trainer(i + 1, 2 * (i + 1)),
          randomBytes: seededRandomBytes(10 + i),
          transport: { send: async (message) => void sent.push({ from: clientId, message }) },
        }),
    );
    await sessions[0]!.connected();
    expect(sent.shift()?.message).toMatchObject({ capabilities: { secagg: true } });
    let outcome: SecAggServerStep | undefined;
    const deliver = async (step: SecAggServerStep) => {
      if (step.kind !== 'send') {
        if (step.kind !== 'pending') outcome = step;
        return;
      }
      for (const { to, message } of step.messages) {
        const envelope = { type: 'secagg', jobId: 'j', round: 2, params: encodeSecAggMessage(message) };
        await sessions[ids.indexOf(to)]!.receive(envelope);
      }
    };
    const global = encodeParams(params([1, 1, 1]));
    const fitIns = {
      type: 'fit_ins',
      jobId: 'j',
      round: 2,
      deadline: Date.now() + 60_000,
      secureAggregation: true,
    };
    const config = { localEpochs: 1, batchSize: 1, learningRate: 0.1, seed: 0 };
    await Promise.all(sessions.map((s) => s.receive({ ...fitIns, config, params: global })));
    await deliver(server.start());
    while (outcome === undefined && sent.length > 0) {
      const { from, message } = sent.shift()!;
      expect(message.type).toBe('secagg');
      if (message.type !== 'secagg') continue;
      await deliver(server.handle(from, decodeSecAggMessage(message.params)));
    }
    expect(outcome?.kind).toBe('done');
    if (outcome?.kind !== 'done') return;
    // Σw = 2 + 4 + 6; Σ w·delta = 2·1 + 4·2 + 6·3 = 28 on every coordinate.
    expect(outcome.result.sumWeights).toBe(12);
    for (const v of outcome.result.weightedSum) expect(v).toBeCloseTo(28, 2);
  });
});
