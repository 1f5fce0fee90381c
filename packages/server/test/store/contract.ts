import { FedAvg, isFedlearnError, strategyStateFromJson, strategyStateToJson } from '@fedlearn/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoordinatorStore, JsonValue, RoundResult } from '../../src/store/index.js';

/** What each implementation gives the shared suite. */
export interface StoreHarness {
  /** A fresh, empty store. */
  open(now: () => Date): Promise<CoordinatorStore>;
  /** The same data through a new instance (closes the previous one). */
  reopen(now: () => Date): Promise<CoordinatorStore>;
  /** A second writer on the same data: another instance where the backend allows it, else the same. */
  peer(store: CoordinatorStore, now: () => Date): Promise<CoordinatorStore>;
  /** Damages the stored record of a round the way a bad disk or a bad hand would. */
  corruptRound(jobId: string, round: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function fakeClock(start = Date.parse('2026-01-01T00:00:00.000Z')): () => Date {
  let tick = 0;
  return () => new Date(start + 1000 * tick++);
}

const KEY = Buffer.alloc(32, 7).toString('base64');
const SHA = 'ab'.repeat(32);

export function result(round: number, loss = 1 / round): RoundResult {
  return {
    participants: ['client-a', 'client-b'],
    metrics: { loss, accuracy: 0.5, numExamples: 120 },
    checkpoint: { uri: `file:///ckpt/job-1/round-${round}`, sha256: SHA },
    strategyState: { round, momentum: [0.5, 0.25] },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isFedlearnError(error) ? error.code : `untyped: ${String(error)}`;
  }
}

/** The same assertions for every `CoordinatorStore`. */
export function describeStoreContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`CoordinatorStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: CoordinatorStore;
    let now: () => Date;

    beforeEach(async () => {
      harness = makeHarness();
      now = fakeClock();
      store = await harness.open(now);
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('creates, reads and lists jobs; a second job with the same id is JOB_CONFLICT', async () => {
      const job = await store.createJob({ id: 'job-1', spec: { rounds: 3, name: 'm' } });
      expect(job).toMatchObject({ id: 'job-1', status: 'queued', priority: 0, lastCompletedRound: 0 });
      expect(job.createdAt).toBe('2026-01-01T00:00:00.000Z');
      expect(await store.getJob('job-1')).toEqual(job);
      expect(await store.getJob('nope')).toBeUndefined();
      expect(await codeOf(store.createJob({ id: 'job-1', spec: {} }))).toBe('JOB_CONFLICT');
      expect(await codeOf(store.createJob({ id: '../etc', spec: {} }))).toBe('INVALID_ARGUMENT');
      let deep: JsonValue = 0;
      for (let i = 0; i < 100_000; i += 1) deep = [deep];
      expect(await codeOf(store.createJob({ id: 'deep', spec: deep }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(store.createJob({ id: 'nan', spec: { x: Number.NaN } }))).toBe('INVALID_ARGUMENT');
      expect((await store.listJobs()).map((j) => j.id)).toEqual(['job-1']);
    });

    it('orders the queue by priority, then submission; status changes stamp start and finish', async () => {
      await store.createJob({ id: 'low', spec: {} });
      await store.createJob({ id: 'high', spec: {}, priority: 5 });
      await store.createJob({ id: 'low-2', spec: {} });
      expect((await store.listQueue()).map((j) => j.id)).toEqual(['high', 'low', 'low-2']);
      const running = await store.setJobStatus('high', { status: 'running' });
      expect(running.startedAt).toBeDefined();
      expect(running.finishedAt).toBeUndefined();
      const cancelled = await store.setJobStatus('high', { status: 'cancelled' });
      expect(cancelled).toMatchObject({ status: 'cancelled', startedAt: running.startedAt });
      expect(cancelled.finishedAt).toBeDefined();
      expect((await store.listQueue()).map((j) => j.id)).toEqual(['low', 'low-2']);
      expect(await codeOf(store.setJobStatus('nope', { status: 'running' }))).toBe('JOB_NOT_FOUND');
    });

    it('records a completed round exactly once, with its checkpoint and strategy state', async () => {
      await store.createJob({ id: 'job-1', spec: {} });
      await store.startRound('job-1', 1, ['client-a', 'client-b']);
      const done = await store.completeRound('job-1', 1, result(1));
      expect(done).toMatchObject({ status: 'completed', round: 1, result: result(1) });
      // The same result again (a retry after a lost answer) changes nothing.
      const reordered = { ...result(1), metrics: { numExamples: 120, accuracy: 0.5, loss: 1 } };
      expect(await store.completeRound('job-1', 1, reordered)).toEqual(done);
      expect(await codeOf(store.completeRound('job-1', 1, result(1, 0.9)))).toBe('ROUND_ALREADY_COMPLETED');
      expect(await codeOf(store.startRound('job-1', 1, ['client-a']))).toBe('ROUND_ALREADY_COMPLETED');
      expect(await codeOf(store.completeRound('job-1', 3, result(3)))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(store.completeRound('nope', 1, result(1)))).toBe('JOB_NOT_FOUND');
      expect(
        await codeOf(
          store.completeRound('job-1', 2, { ...result(2), checkpoint: { uri: 'x', sha256: 'no' } }),
        ),
      ).toBe('INVALID_ARGUMENT');
      expect((await store.getJob('job-1'))?.lastCompletedRound).toBe(1);
      expect(await store.listRounds('job-1')).toEqual([done]);
      expect(await store.getStrategyState('job-1')).toMatchObject({
        round: 1,
        state: { round: 1, momentum: [0.5, 0.25] },
      });
    });

    it('restarts a failed round, and keeps everything across a reopen', async () => {
      await store.createJob({ id: 'job-1', spec: { rounds: 2 } });
      // What a real strategy hands over (`Strategy.state()`) is stored and read back as it was.
      const fedAvgState = new FedAvg({ minFitClients: 3 }).state();
      await store.putStrategyState('job-1', 0, strategyStateToJson(fedAvgState) as unknown as JsonValue);
      const stored = await store.getStrategyState('job-1');
      expect(strategyStateFromJson(stored?.state)).toEqual(fedAvgState);
      expect(await codeOf(store.failRound('job-1', 1, { code: 'X', message: 'm' }))).toBe('INVALID_ARGUMENT');
      await store.startRound('job-1', 1, ['client-a']);
      const failed = await store.failRound('job-1', 1, { code: 'QUORUM_NOT_REACHED', message: 'too few' });
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'QUORUM_NOT_REACHED' } });
      const restarted = await store.startRound('job-1', 1, ['client-a', 'client-b']);
      expect(restarted.status).toBe('running');
      expect(restarted.error).toBeUndefined();
      await store.completeRound('job-1', 1, result(1));
      await store.startRound('job-1', 2, ['client-b']);
      await store.enrollClient({ id: 'client-a', identityPublicKey: KEY, secretHash: 'h1' });
      const before = {
        jobs: await store.listJobs(),
        rounds: await store.listRounds('job-1'),
        strategy: await store.getStrategyState('job-1'),
        clients: await store.listClients(),
      };
      const again = await harness.reopen(now);
      expect({
        jobs: await again.listJobs(),
        rounds: await again.listRounds('job-1'),
        strategy: await again.getStrategyState('job-1'),
        clients: await again.listClients(),
      }).toEqual(before);
      expect(before.rounds.map((r) => [r.round, r.status])).toEqual([
        [1, 'completed'],
        [2, 'running'],
      ]);
      await again.completeRound('job-1', 2, result(2));
      const third = await harness.reopen(now);
      expect((await third.getJob('job-1'))?.lastCompletedRound).toBe(2);
      expect((await third.listRounds('job-1')).map((r) => r.status)).toEqual(['completed', 'completed']);
    });

    it('lets exactly one of many concurrent writers complete a round or create a job', async () => {
      const other = await harness.peer(store, now);
      await store.createJob({ id: 'job-1', spec: {} });
      const writers = Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? other : store).completeRound('job-1', 1, result(1, 0.1 * (i + 1))),
      );
      const codes = await Promise.all(writers.map(codeOf));
      expect(codes.filter((c) => c === 'resolved')).toHaveLength(1);
      expect(codes.filter((c) => c === 'ROUND_ALREADY_COMPLETED')).toHaveLength(7);
      const same = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).completeRound('job-1', 2, result(2))),
      );
      expect(new Set(same.map((r) => JSON.stringify(r)))).toHaveLength(1);
      expect((await store.listRounds('job-1')).map((r) => r.round)).toEqual([1, 2]);
      expect((await other.getJob('job-1'))?.lastCompletedRound).toBe(2);
      const creates = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          codeOf((i % 2 ? other : store).createJob({ id: 'dup', spec: { i } })),
        ),
      );
      expect(creates.filter((c) => c === 'resolved')).toHaveLength(1);
      expect(creates.filter((c) => c === 'JOB_CONFLICT')).toHaveLength(5);
    });

    it('makes one job per idempotency key, also for concurrent writers; another request under it is refused', async () => {
      const other = await harness.peer(store, now);
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : store).createJob({
            id: `job-${i}`,
            spec: { rounds: 2 },
            idempotencyKey: 'key-1',
            requestHash: 'hash-a',
          }),
        ),
      );
      expect(new Set(made.map((j) => j.id)).size).toBe(1);
      expect(made[0]).toMatchObject({ idempotencyKey: 'key-1', requestHash: 'hash-a' });
      expect(await store.listJobs()).toHaveLength(1);
      const reused = store.createJob({
        id: 'job-x',
        spec: {},
        idempotencyKey: 'key-1',
        requestHash: 'hash-b',
      });
      expect(await codeOf(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await codeOf(store.createJob({ id: 'job-y', spec: {}, idempotencyKey: 'bad key' }))).toBe(
        'INVALID_ARGUMENT',
      );
      store = await harness.reopen(now);
      const again = await store.createJob({
        id: 'job-z',
        spec: {},
        idempotencyKey: 'key-1',
        requestHash: 'hash-a',
      });
      expect(again.id).toBe(made[0]?.id);
    });

    it("numbers a job's events from 1, lists those after an id, and keeps the run id", async () => {
      await store.createJob({ id: 'job-1', spec: {} });
      await store.createJob({ id: 'job-2', spec: {} });
      for (const type of ['job_status', 'round_started', 'round_completed']) {
        await store.appendEvent('job-1', { type, data: { jobId: 'job-1', type } });
      }
      await store.appendEvent('job-2', { type: 'job_status', data: { jobId: 'job-2' } });
      await store.setJobRunId('job-1', 'run-abc');
      store = await harness.reopen(now);
      expect((await store.listEvents('job-1')).map((e) => [e.id, e.type])).toEqual([
        [1, 'job_status'],
        [2, 'round_started'],
        [3, 'round_completed'],
      ]);
      expect((await store.listEvents('job-1', 2)).map((e) => e.id)).toEqual([3]);
      expect((await store.listEvents('job-2')).map((e) => e.id)).toEqual([1]);
      expect((await store.getJob('job-1'))?.runId).toBe('run-abc');
      expect(await codeOf(store.listEvents('nope'))).toBe('JOB_NOT_FOUND');
      expect(await codeOf(store.appendEvent('job-1', { type: 'Bad Type', data: {} }))).toBe(
        'INVALID_ARGUMENT',
      );
    });

    it('enrolls and revokes clients; revocation keeps its first time', async () => {
      const client = await store.enrollClient({
        id: 'client-a',
        identityPublicKey: KEY,
        secretHash: 'scrypt$abc',
      });
      expect(client).toEqual({
        id: 'client-a',
        identityPublicKey: KEY,
        secretHash: 'scrypt$abc',
        createdAt: client.createdAt,
      });
      expect(
        await codeOf(store.enrollClient({ id: 'client-a', identityPublicKey: KEY, secretHash: 'x' })),
      ).toBe('DUPLICATE_CLIENT');
      expect(
        await codeOf(store.enrollClient({ id: 'client-b', identityPublicKey: 'short', secretHash: 'x' })),
      ).toBe('INVALID_ARGUMENT');
      const revoked = await store.revokeClient('client-a');
      expect(revoked.revokedAt).toBeDefined();
      expect((await store.revokeClient('client-a')).revokedAt).toBe(revoked.revokedAt);
      expect((await store.getClient('client-a'))?.revokedAt).toBe(revoked.revokedAt);
      expect(await codeOf(store.revokeClient('nobody'))).toBe('UNKNOWN_CLIENT');
      expect(await store.getClient('nobody')).toBeUndefined();
    });

    it('reports a damaged stored round as STORE_CORRUPT, never as a default', async () => {
      await store.createJob({ id: 'job-1', spec: {} });
      await store.startRound('job-1', 1, ['client-a']);
      await store.completeRound('job-1', 1, result(1));
      await store.startRound('job-1', 2, ['client-a']);
      await harness.corruptRound('job-1', 1);
      const read = async () => (await harness.reopen(now)).listRounds('job-1');
      expect(await codeOf(read())).toBe('STORE_CORRUPT');
    });
  });
}
