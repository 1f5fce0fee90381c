import { describe, expect, it } from 'vitest';
import { encodeParams } from '../../params/codec.js';
import type { ModelParams } from '../../params/tensors.js';
import { l2Norm } from '../../privacy/clip.js';
import { noiseShare, ringClipFor } from '../../privacy/distributed-noise.js';
import type { ClientMessage, FitConfig } from '../../protocol/messages.js';
import { createRng, seededRandomBytes } from '../../random.js';
import type { SecAggServerStep } from '../../secagg/round-types.js';
import { createSecAggServerRound } from '../../secagg/server.js';
import { decodeSecAggMessage, encodeSecAggMessage } from '../../secagg/wire.js';
import { ClientSession } from '../client-session.js';
import type { Trainer } from '../types.js';
import { updateDelta } from './update.js';

const D = 8000;
const ids = ['a', 'b', 'c', 'd', 'e'];
const tensor = (values: Float32Array): ModelParams => [{ name: 'w', shape: [D], values }];
const global = tensor(Float32Array.from({ length: D }, (_, i) => Math.cos(i) / 10));

/** A trainer whose update is a seeded random direction of the given norm (some above C). */
function trainer(seed: number, norm: number): Trainer {
  const rng = createRng(seed);
  const direction = Float64Array.from({ length: D }, () => rng.normal());
  const scale = norm / l2Norm(direction);
  return {
    numExamples: 100 * seed,
    numEvalExamples: 0,
    backend: 'fake',
    specs: () => [{ name: 'w', shape: [D] }],
    getParameters: async () => ({ params: global, modelTopology: {} }),
    fit: async (params) => ({
      params: tensor(Float32Array.from(params[0]!.values, (v, i) => v + (direction[i] as number) * scale)),
      numExamples: 100 * seed,
      metrics: {},
    }),
    evaluate: async () => ({ numExamples: 0, loss: 0, metrics: {} }),
  };
}

/** Runs one secure round of five sessions; returns what the coordinator learns once it unmasks. */
async function secureRound(config: FitConfig, clipRange: number, bits: number) {
  const server = createSecAggServerRound(
    { dimension: D, clipRange, quantizationBits: bits, maxWeight: 1 },
    ids,
    { round: 1, randomBytes: seededRandomBytes(1) },
  );
  const sent: { from: string; message: ClientMessage }[] = [];
  const trainers = ids.map((_, i) => trainer(i + 1, [0.4, 1, 2.5, 0.9, 6][i]!));
  const sessions = ids.map(
    (clientId, i) =>
      new ClientSession({
        clientId,
        trainer: trainers[i]!,
        randomBytes: seededRandomBytes(10 + i),
        noiseRng: createRng(100 + i),
        transport: { send: async (message) => void sent.push({ from: clientId, message }) },
      }),
  );
  let outcome: SecAggServerStep | undefined;
  const deliver = async (step: SecAggServerStep) => {
    if (step.kind !== 'send') {
      if (step.kind !== 'pending') outcome = step;
      return;
    }
    for (const { to, message } of step.messages) {
      await sessions[ids.indexOf(to)]!.receive({
        type: 'secagg',
        jobId: 'j',
        round: 1,
        params: encodeSecAggMessage(message),
      });
    }
  };
  const fitIns = {
    type: 'fit_ins',
    jobId: 'j',
    round: 1,
    deadline: Date.now() + 60_000,
    secureAggregation: true,
  };
  await Promise.all(sessions.map((s) => s.receive({ ...fitIns, config, params: encodeParams(global) })));
  await deliver(server.start());
  while (outcome === undefined && sent.length > 0) {
    const { from, message } = sent.shift()!;
    if (message.type !== 'secagg') throw new Error(`a ${message.type} left a client in a secure round`);
    await deliver(server.handle(from, decodeSecAggMessage(message.params)));
  }
  if (outcome?.kind !== 'done') throw new Error(`the round ended ${outcome?.kind}`);
  // The plain sum of the clipped updates: what the coordinator would see without noise.
  const plain = new Float64Array(D);
  for (const t of trainers) {
    const delta = Float64Array.from(updateDelta((await t.fit(global, config)).params, global));
    const scale = Math.min(1, (config.privacy?.clipNorm ?? Infinity) / l2Norm(delta));
    for (let i = 0; i < D; i++) plain[i] = (plain[i] as number) + (delta[i] as number) * scale;
  }
  return { ...outcome.result, plain };
}

describe('distributed DP under secure aggregation', () => {
  const clipNorm = 1;
  const noiseMultiplier = 1.2;
  const bits = 20;
  const clipRange = ringClipFor({ noiseMultiplier, clients: ids.length, bits }, clipNorm, D);
  const base = { localEpochs: 1, batchSize: 1, learningRate: 0.1, seed: 0 };

  it('the unmasked sum is the clipped sum plus integer Skellam noise of the variance the accountant assumes', async () => {
    const noise = { noiseMultiplier, clients: ids.length, clipRange, bits };
    const { sumWeights, weightedSum, plain } = await secureRound(
      { ...base, privacy: { clipNorm, noise } },
      clipRange,
      bits,
    );
    // Every client counts once.
    expect(sumWeights).toBe(ids.length);
    const share = noiseShare(noise, clipNorm, D);
    const residual = Float64Array.from(weightedSum, (v, i) => (v - (plain[i] as number)) / share.quantum);
    const mean = residual.reduce((s, v) => s + v, 0) / D;
    const variance = residual.reduce((s, v) => s + (v - mean) ** 2, 0) / (D - 1);
    // The accountant's σ: noise of standard deviation σ·Δ₂ (grid steps) on the sum, Δ₂ = C/quantum + √d.
    const assumed = (noiseMultiplier * share.sensitivitySteps) ** 2;
    expect(2 * share.mu * ids.length).toBeCloseTo(assumed, 3);
    // Seeded; the bound is 4 standard errors of a sample variance of D draws (4·√(2/D) ≈ 6.3%),
    // and stochastic rounding adds at most n/4 steps², 1e-10 of the variance.
    expect(Math.abs(variance / assumed - 1)).toBeLessThan(4 * Math.sqrt(2 / D));
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(assumed / D));
    // It really is noise: far larger than the grid's rounding, on every client's share.
    expect(Math.sqrt(variance)).toBeGreaterThan(1000);
  });

  it('without a noise share the same round gives the clipped sum (to the grid step)', async () => {
    const { sumWeights, weightedSum, plain } = await secureRound(
      { ...base, privacy: { clipNorm } },
      clipRange,
      bits,
    );
    expect(sumWeights).toBe(ids.length);
    const step = (2 * clipRange) / (2 ** bits - 1);
    for (let i = 0; i < D; i++)
      expect(Math.abs((weightedSum[i] as number) - (plain[i] as number))).toBeLessThan(ids.length * step);
  });
});
