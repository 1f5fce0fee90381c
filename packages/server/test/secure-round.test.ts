import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClientMessage,
  decodeParams,
  decodeSecAggMessage,
  encodeParams,
  encodeSecAggMessage,
  flattenParams,
} from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { describe, expect, it, vi } from 'vitest';
import type { JobState } from '../src/index.js';
import {
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  handledFrom,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
  TestClient,
  testClock,
} from './harness.js';

// The coordinator's own calls to the plain-update decoders are watched (they still do their job),
// so a test can prove at run time that a secure round never decodes an individual update.
vi.mock('@fedlearn/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@fedlearn/core')>();
  return { ...core, decodeParams: vi.fn(core.decodeParams), flattenParams: vi.fn(core.flattenParams) };
});

const cleanups = cleanupAfterEach();
/**
 * Rounds here end on events the tests cause (answers, silences, a clock they move), so the test
 * timeout only catches a hang; it is long because a loaded 2-core machine can take tens of seconds.
 */
const HANG_TIMEOUT_MS = 180_000;
const INITIAL = [1, 2, 3, 4];
/** Client i adds DELTAS[i] to every weight and trains on WEIGHTS[i] examples. */
const DELTAS = [0.5, -0.25, 1.5, 0.75, -1, 0.125];
const WEIGHTS = [10, 20, 30, 40, 50, 60];
// Quantization step 2·clip/(2^16 − 1). Stochastic rounding errs by less than one step per client,
// so a round's weighted mean errs by less than one step too, and the errors of successive rounds add.
const CLIP = 2;
const PRECISION = (2 * CLIP) / 65535;
/** Float32 rounding of weights below 8 (half an ulp is 2^-22 ≈ 2.4e-7), with room to spare. */
const FLOAT32_SLACK = 1e-6;

async function setup(n: number, options: Parameters<typeof startCoordinator>[0] = {}) {
  const { coordinator, logs } = await startCoordinator(options);
  cleanups.push(() => coordinator.stop());
  const clients = Array.from(
    { length: n },
    (_, i) =>
      new TestClient(coordinator.url, `c${i}`, {
        ...arithmeticTrainer(DELTAS[i]!, WEIGHTS[i]!),
        dataFingerprint: { sha256: String(i).repeat(64), examples: WEIGHTS[i]! },
      }),
  );
  cleanups.push(() => closeAll(clients));
  await nextEvent(coordinator, 'client_joined', (e) => e.connected === n);
  return { coordinator, logs, clients };
}

function submit(coordinator: Awaited<ReturnType<typeof setup>>['coordinator'], n: number, extra = {}) {
  return coordinator.submitJob({
    rounds: 1,
    federatedEvaluation: false,
    strategy: { minFitClients: 3, minAvailableClients: n },
    secagg: { enabled: true, clip: CLIP, bits: 16 },
    model: {
      params: Buffer.from(encodeParams(params(INITIAL))).toString('base64'),
      topology: { class_name: 'Sequential', config: {} },
    },
    ...extra,
  });
}

/** The weighted mean step FedAvg takes over `ids` (indices into DELTAS/WEIGHTS). */
function step(ids: number[]): number {
  const total = ids.reduce((s, i) => s + WEIGHTS[i]!, 0);
  return ids.reduce((s, i) => s + WEIGHTS[i]! * DELTAS[i]!, 0) / total;
}

function checkpointValues(job: JobState, round: number): number[] {
  const bin = readFileSync(join(job.rounds[round - 1]!.checkpoint!, 'group1-shard1of1.bin'));
  return Array.from(new Float32Array(bin.buffer, bin.byteOffset, 4));
}

/** The model after `rounds` secure rounds is within one quantization step per round of FedAvg's. */
function expectModel(values: number[], expected: number[], rounds = 1) {
  const tolerance = rounds * (PRECISION + FLOAT32_SLACK);
  for (const [i, v] of values.entries()) expect(Math.abs(v - expected[i]!)).toBeLessThan(tolerance);
}

const STAGES = ['secagg/advertise-keys', 'secagg/share-keys', 'secagg/masked-input', 'secagg/unmask'];

/** Matches a raw `secagg` message (as reassembled from frames) of one stage. */
function isSecAgg(stage: string) {
  return (message: Record<string, unknown>) =>
    message.type === 'secagg' &&
    (decodeSecAggMessage(message.params as Uint8Array) as { type: string }).type === stage;
}

function secaggType(message: ClientMessage): string | undefined {
  if (message.type !== 'secagg') return undefined;
  return (decodeSecAggMessage(message.params) as { type: string }).type;
}

/** Cuts (or silences) the client instead of its message of `stage` in `round`. */
function failAt(client: TestClient, stage: string, fate: 'disconnect' | 'drop', round = 1) {
  let gone = false;
  client.intercept = (message) => {
    if (gone && message.type === 'secagg' && message.round === round) return 'drop';
    if (message.type === 'secagg' && message.round === round && secaggType(message) === stage) {
      gone = true;
      return fate;
    }
    return message;
  };
}

describe('secure aggregation in a job (real sockets)', { timeout: HANG_TIMEOUT_MS }, () => {
  it('gives the FedAvg model to quantization precision, without any update in the clear', async () => {
    const { coordinator, logs, clients } = await setup(3);
    const sent: string[] = [];
    for (const c of clients) {
      c.intercept = (m) => {
        sent.push(m.type);
        return m;
      };
    }
    const received: number[] = [];
    coordinator.on((e) => {
      if (e.type === 'fit_received' && e.round === 1) received.push(e.completed);
    });
    const job = await submit(coordinator, 3, { rounds: 2, federatedEvaluation: true });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.status, r.sampled, r.completed])).toEqual([
      ['ok', 3, 3],
      ['ok', 3, 3],
    ]);
    const s = step([0, 1, 2]);
    expectModel(
      checkpointValues(done, 1),
      INITIAL.map((v) => v + s),
    );
    expectModel(
      checkpointValues(done, 2),
      INITIAL.map((v) => v + 2 * s),
      2,
    );
    expect(sent).not.toContain('fit_res');
    expect(received).toEqual([1, 2, 3]); // progress: one event per masked input
    const r1 = done.rounds[0]!;
    expect(r1.secagg?.survivors).toBe(3);
    expect(r1.secagg?.stages.map((t) => [t.stage, t.expected, t.answered])).toEqual([
      ['advertise-keys', 3, 3],
      ['share-keys', 3, 3],
      ['masked-input', 3, 3],
      ['unmask', 3, 3],
    ]);
    expect(r1.bytesUp).toBeGreaterThan(3 * 4 * 4);
    expect(r1.federated?.accuracy).toBe(0.5);
    expect(logs.some((l) => String(l.msg).startsWith('secure aggregation round 1: done, 3/3'))).toBe(true);
    const fitIns = clients[0]!.received.find((m) => m.type === 'fit_ins');
    expect(fitIns).toMatchObject({ secureAggregation: true });
  });

  it.each([
    ['before sending its keys', 0, [0, 1, 2, 4]],
    ['after its keys, before its shares', 1, [0, 1, 2, 4]],
    ['after its shares, before masking', 2, [0, 1, 2, 4]],
    ['after its masked input', 3, [0, 1, 2, 3, 4]],
  ])(
    'completes when a client disconnects %s, with the sum over the survivors',
    async (_when, stage, survivors) => {
      const { coordinator, clients } = await setup(5);
      failAt(clients[3]!, STAGES[stage]!, 'disconnect');
      const done = await coordinator.waitForJob((await submit(coordinator, 5)).id);
      const round = done.rounds[0]!;
      expect([round.status, round.completed, round.secagg?.survivors]).toEqual([
        'ok',
        survivors.length,
        survivors.length,
      ]);
      expectModel(
        checkpointValues(done, 1),
        INITIAL.map((v) => v + step(survivors)),
      );
      expect(round.secagg?.stages[stage]).toMatchObject({ expected: 5, answered: 4 });
    },
  );

  it('closes a stage at its deadline when a client goes silent', async () => {
    const clock = testClock();
    const { coordinator, clients } = await setup(5, { clock });
    failAt(clients[1]!, 'secagg/share-keys', 'drop');
    const stageTimeoutMs = 30_000;
    const job = await submit(coordinator, 5, { secagg: { enabled: true, clip: CLIP, stageTimeoutMs } });
    // The share-keys deadline passes once the four others' shares are in: only c1 can miss it.
    await handledFrom(coordinator, ['c0', 'c2', 'c3', 'c4'], isSecAgg('secagg/share-keys'));
    clock.advance(stageTimeoutMs);
    const done = await coordinator.waitForJob(job.id);
    const round = done.rounds[0]!;
    expect([round.status, round.completed, round.timedOut]).toEqual(['ok', 4, 1]);
    expect(round.secagg?.stages[1]).toMatchObject({ stage: 'share-keys', expected: 5, answered: 4 });
    expectModel(
      checkpointValues(done, 1),
      INITIAL.map((v) => v + step([0, 2, 3, 4])),
    );
  });

  it('aborts a round below the threshold, keeps the model, and goes on', async () => {
    const { coordinator, clients } = await setup(5);
    for (const c of clients.slice(0, 3)) {
      c.comeBack = true;
      failAt(c, 'secagg/advertise-keys', 'disconnect');
    }
    const done = await coordinator.waitForJob((await submit(coordinator, 5, { rounds: 2 })).id);
    expect(done.status).toBe('completed');
    expect(done.rounds.map((r) => [r.status, r.error?.code])).toEqual([
      ['failed', 'SECAGG_BELOW_THRESHOLD'],
      ['ok', undefined],
    ]);
    expect(done.rounds[0]!.checkpoint).toBeUndefined();
    expectModel(
      checkpointValues(done, 2),
      INITIAL.map((v) => v + step([0, 1, 2, 3, 4])),
    );
  });

  it('refuses malformed and tampered messages with typed errors naming the client', async () => {
    const { coordinator, clients } = await setup(6);
    clients[1]!.intercept = (m) =>
      secaggType(m) === 'secagg/advertise-keys' && m.type === 'secagg'
        ? { ...m, params: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) }
        : m;
    clients[4]!.intercept = (m) => {
      if (m.type !== 'secagg' || secaggType(m) !== 'secagg/masked-input') return m;
      const masked = decodeSecAggMessage(m.params) as { vector: Uint8Array };
      return { ...m, params: encodeSecAggMessage({ ...masked, vector: masked.vector.subarray(4) }) };
    };
    const done = await coordinator.waitForJob((await submit(coordinator, 6)).id);
    const round = done.rounds[0]!;
    expect([round.status, round.completed, round.failed]).toEqual(['ok', 4, 2]);
    expectModel(
      checkpointValues(done, 1),
      INITIAL.map((v) => v + step([0, 2, 3, 5])),
    );
    const errorOf = (c: TestClient) =>
      c.received.find((m) => m.type === 'error')?.error as { code: string; details: { clientId: string } };
    expect(errorOf(clients[1]!)).toMatchObject({ code: 'MALFORMED_MESSAGE', details: { clientId: 'c1' } });
    expect(errorOf(clients[4]!)).toMatchObject({ code: 'SECAGG_BAD_VECTOR', details: { clientId: 'c4' } });
  });

  it('samples only clients that support it, and refuses plain updates without reading them', async () => {
    const { coordinator } = await setup(3);
    const raw = new RawClient(coordinator.url);
    cleanups.push(() => raw.close());
    await raw.connected();
    raw.hello('plain-only');
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 4);
    const started = nextEvent(coordinator, 'round_started');
    const job = await submit(coordinator, 4);
    expect((await started).sampled.sort()).toEqual(['c0', 'c1', 'c2']);
    // The job's initial weights were decoded before its first round started; from here on nothing may decode.
    vi.mocked(decodeParams).mockClear();
    vi.mocked(flattenParams).mockClear();
    // Not even a valid weights payload: a secure round must refuse it before any decoding.
    raw.sendMessage({
      type: 'fit_res',
      jobId: job.id,
      round: 1,
      numExamples: 5,
      metrics: {},
      params: Uint8Array.of(1, 2, 3),
    });
    const refusal = await raw.waitFor((m) => m.type === 'error');
    expect(refusal.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await coordinator.waitForJob(job.id)).rounds[0]!.status).toBe('ok');
    expect(raw.received.some((m) => m.type === 'fit_ins')).toBe(false);
    // Nothing in the whole secure round, the plain update included, went through a decoder.
    expect(vi.mocked(decodeParams)).not.toHaveBeenCalled();
    expect(vi.mocked(flattenParams)).not.toHaveBeenCalled();
  });

  it('registers secure models as such, with the survivors as their lineage', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-home-'));
    const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { cwd: home, home }));
    cleanups.push(() => lifecycle.close());
    const { coordinator, clients } = await setup(4, { lifecycle });
    failAt(clients[2]!, 'secagg/share-keys', 'disconnect');
    const done = await coordinator.waitForJob((await submit(coordinator, 4, { name: 'secure' })).id);
    expect(done.rounds[0]!.model?.version).toBe(1);
    const loaded = await lifecycle.loadModel('models:/secure/1');
    expect(loaded.mlmodel.fedlearn).toMatchObject({ secureAggregation: true });
    const fingerprints = loaded.mlmodel.fedlearn.dataPartitions.fingerprints.map((f) => f.clientId);
    expect(fingerprints.sort()).toEqual(['c0', 'c1', 'c3']);
  });
});
