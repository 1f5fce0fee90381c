import { describe, expect, it } from 'vitest';
import {
  arithmeticTrainer,
  cleanupAfterEach,
  closeAll,
  isError,
  isType,
  nextEvent,
  RawClient,
  startCoordinator,
  TestClient,
  testClock,
} from './harness.js';

const cleanups = cleanupAfterEach();

describe('stragglers and churn', () => {
  it('evicts a client that sent nothing for the heartbeat timeout, and keeps one that heartbeats', async () => {
    const clock = testClock();
    const { coordinator } = await startCoordinator({
      clock,
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 3000,
    });
    cleanups.push(() => coordinator.stop());
    const [alive, silent] = [new RawClient(coordinator.url), new RawClient(coordinator.url)];
    cleanups.push(() => closeAll([alive, silent]));
    await Promise.all([alive.connected(), silent.connected()]);
    alive.hello('alive');
    silent.hello('silent');
    await Promise.all([alive.waitFor(isType('welcome')), silent.waitFor(isType('welcome'))]);
    for (let second = 1; second <= 4; second++) {
      // The coordinator handles a client's frames in order: the answer to a bad frame sent right
      // after the heartbeat says the heartbeat was taken before the clock moves on.
      alive.sendMessage({ type: 'heartbeat', sentAt: second });
      alive.sendRaw({ f: 'x' });
      await alive.waitFor(() => alive.received.filter(isError('MALFORMED_MESSAGE')).length === second);
      clock.advance(1000);
    }
    const refusal = await silent.waitFor(isError('HEARTBEAT_MISSED'));
    expect((refusal.error as { message: string }).message).toMatch(/nothing received from silent for \d+ ms/);
    expect(coordinator.clients.get('silent')).toBeUndefined();
    expect(coordinator.clients.get('alive')).toBeDefined();
    expect(alive.received.some(isError('HEARTBEAT_MISSED'))).toBe(false);
  });

  it('over-selects, closes the round at the quorum without waiting for the straggler, and records it', async () => {
    const clock = testClock();
    const { coordinator } = await startCoordinator({ clock });
    cleanups.push(() => coordinator.stop());
    const straggler = {
      ...arithmeticTrainer(9, 10),
      fit: () => new Promise<never>(() => undefined),
    };
    const clients = [
      new TestClient(coordinator.url, 'a', arithmeticTrainer(1, 10)),
      new TestClient(coordinator.url, 'b', arithmeticTrainer(3, 10)),
      new TestClient(coordinator.url, 's', straggler),
    ];
    cleanups.push(() => closeAll(clients));
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 3);
    // The strategy samples 2 of 3; over-selection by 0.5 asks the third as well.
    const job = await coordinator.submitJob({
      rounds: 1,
      federatedEvaluation: false,
      overSelection: 0.5,
      strategy: { name: 'fedavg', fractionFit: 0.5, minFitClients: 2, minAvailableClients: 3 },
    });
    // The clock never moves: the round can only end because the quorum arrived.
    const done = await coordinator.waitForJob(job.id);
    expect(done.rounds[0]).toMatchObject({ status: 'ok', sampled: 3, completed: 2, timedOut: 0 });
    expect(coordinator.clientRecords.get('s')).toMatchObject({ sampled: 1, cut: 1, completed: 0, missed: 0 });
    expect(coordinator.clientRecords.get('a')).toMatchObject({ sampled: 1, completed: 1 });
    // (1 + 3) / 2 added to the initial zeros.
    expect(done.rounds[0]!.trainLoss).toBe(2);
  });
});
