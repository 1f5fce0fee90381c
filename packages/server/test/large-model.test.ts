import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, startCoordinator } from './harness.js';
import { pattern, sessionClient, standInTrainer, wrongWeights } from './transfer-clients.js';

const cleanups = cleanupAfterEach();
const MiB = 1024 * 1024;

describe('large model', () => {
  it('a model of 200 MB of parameters completes a round with three clients, aggregated exactly', async () => {
    const size = 50 * MiB; // float32 parameters: 200 MiB of weights
    const { coordinator, logs } = await startCoordinator({
      maxPayloadBytes: 256 * MiB,
      // Clients and coordinator share this process: hashing and copying 200 MB blocks the event
      // loop for seconds on a loaded machine, which must not read as a dead connection.
      pingIntervalMs: 60_000,
      pingTimeoutMs: 120_000,
      transferTimeoutMs: 300_000,
    });
    cleanups.push(() =>
      console.log(JSON.stringify(logs.filter((l) => (l.level as number) >= 40)).slice(0, 3000)),
    );
    cleanups.push(() => coordinator.stop());
    // Examples 1, 2, 1 and deltas 1, 2, 5: the weighted mean adds (1 + 4 + 5) / 4 = 2.5 to pattern(j).
    const clients = [
      [1, 1],
      [2, 2],
      [5, 1],
    ].map(([delta, examples], i) =>
      sessionClient(coordinator.url, `big-${i}`, standInTrainer(size, delta!, examples!)),
    );
    for (const client of clients) cleanups.push(() => client.stop());
    await Promise.all(clients.map((c) => c.whenConnected()));
    const job = await coordinator.submitJob({
      rounds: 1,
      federatedEvaluation: false,
      roundTimeoutMs: 300_000,
      model: { requestTimeoutMs: 300_000 },
      strategy: { name: 'fedavg', minFitClients: 3 },
    });
    const done = await coordinator.waitForJob(job.id);
    expect({ status: done.status, error: done.error, round: done.rounds[0]?.error }).toEqual({
      status: 'completed',
      error: undefined,
      round: undefined,
    });
    expect(done.rounds[0]).toMatchObject({ status: 'ok', completed: 3, sampled: 3 });
    expect(done.rounds[0]!.bytesUp).toBeGreaterThan(3 * 4 * size);
    expect(await wrongWeights(done.rounds[0]!.checkpoint!, size, (j) => pattern(j) + 2.5)).toEqual([]);
  }, 600_000);
});
