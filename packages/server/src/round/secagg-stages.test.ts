import {
  createSecAggClient,
  createSecAggServerRound,
  ManualClock,
  type SecAggServerMessage,
  type SecAggStage,
  seededRandomBytes,
} from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { SecAggStages, StageHistory, stageDeadlineMs } from './secagg-stages.js';

const IDS = ['a', 'b', 'c', 'd', 'e'];

/**
 * One round on a manual clock in which every client answers each stage `delayMs[stage]` after the
 * stage's messages went out.
 */
async function runRound(history: StageHistory, delayMs: Partial<Record<SecAggStage, number>>, seed: number) {
  const clock = new ManualClock();
  const config = { dimension: 8, clipRange: 1, quantizationBits: 8, maxWeight: 10 };
  const round = createSecAggServerRound(config, IDS, { round: seed, randomBytes: seededRandomBytes(seed) });
  const clients = new Map(
    IDS.map((id, i) => [
      id,
      createSecAggClient(round.setup, id, { randomBytes: seededRandomBytes(seed * 10 + i) }),
    ]),
  );
  const outbox: [string, SecAggServerMessage][] = [];
  const stages = new SecAggStages({
    round,
    clock,
    send: (to, message) => outbox.push([to, message]) > 0,
    firstStageTimeoutMs: 60_000,
    stageTimeoutMs: 3000,
    history,
  });
  stages.start();
  while (outbox.length > 0) {
    const batch = outbox.splice(0);
    const stage = stages.stage;
    clock.advance(delayMs[stage] ?? 0);
    if (stages.stage !== stage) break; // the deadline passed first
    for (const [to, message] of batch) {
      const client = clients.get(to)!;
      const reply =
        message.type === 'secagg/setup'
          ? client.advertiseKeys()
          : client.handle(message, { update: new Float32Array(8).fill(0.25), weight: 2 });
      stages.receive(to, reply);
    }
  }
  return stages.outcome;
}

describe('adaptive SecAgg+ stage deadlines', () => {
  it('a masking stage slower than the configured deadline fails a fresh job but not one that saw it before', async () => {
    const learned = new StageHistory();
    // Round 1: clients mask within the 3 s floor, taking 2.5 s.
    expect((await runRound(learned, { 'masked-input': 2500 }, 1)).kind).toBe('done');
    // Round 2: they now take 5 s (a loaded machine). The learned deadline (3 × 2.5 s) holds...
    const slow = { 'masked-input': 5000 };
    const adapted = await runRound(learned, slow, 2);
    expect(adapted.kind).toBe('done');
    if (adapted.kind === 'done') expect(adapted.result.sumWeights).toBe(2 * IDS.length);
    // ...and the fixed 3 s deadline, without history, drops every client.
    const fixed = await runRound(new StageHistory(), slow, 3);
    expect(fixed.kind === 'aborted' ? fixed.error.code : fixed.kind).toBe('SECAGG_BELOW_THRESHOLD');
  });

  it('raises the floor to the work a stage implies (k, d) and never goes below the floor', () => {
    const base = { floorMs: 3000, clients: 100, neighbours: 24 };
    const small = stageDeadlineMs('masked-input', { ...base, vectorLength: 1000 });
    const large = stageDeadlineMs('masked-input', { ...base, vectorLength: 1_000_001 });
    const denser = stageDeadlineMs('masked-input', { ...base, neighbours: 98, vectorLength: 1_000_001 });
    expect(small).toBe(3000);
    expect(large).toBeGreaterThan(3000);
    expect(denser).toBeGreaterThan(large);
    expect(stageDeadlineMs('unmask', { ...base, floorMs: 60_000, vectorLength: 1_000_001 })).toBe(60_000);
  });

  it('scales what it learned with the number of clients a stage waits for', () => {
    const history = new StageHistory();
    history.record('share-keys', 2000, 10);
    expect(history.expectedMs('share-keys', 10)).toBe(2000);
    expect(history.expectedMs('share-keys', 40)).toBe(8000);
    expect(history.expectedMs('share-keys', 5)).toBe(2000);
    expect(history.expectedMs('unmask', 40)).toBe(0);
  });
});
