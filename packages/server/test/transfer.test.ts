import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, startCoordinator } from './harness.js';
import { pattern, sessionClient, standInTrainer, wrongWeights } from './transfer-clients.js';

const cleanups = cleanupAfterEach();
const KiB = 1024;

describe('chunked transfer', () => {
  it('a coordinator with a non-default chunk size completes a round with default clients', async () => {
    const { coordinator } = await startCoordinator({ chunkBytes: 64 * KiB });
    cleanups.push(() => coordinator.stop());
    const size = 100_000; // 400 kB of weights: several chunks of either size
    const clients = [1, 3].map((delta, i) =>
      sessionClient(coordinator.url, `c${i}`, standInTrainer(size, delta, 10)),
    );
    for (const client of clients) cleanups.push(() => client.stop());
    await Promise.all(clients.map((c) => c.whenConnected()));
    const job = await coordinator.submitJob({
      rounds: 1,
      federatedEvaluation: false,
      roundTimeoutMs: 30_000,
    });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds[0]?.status).toBe('ok');
    expect(await wrongWeights(done.rounds[0]!.checkpoint!, size, (j) => pattern(j) + 2)).toEqual([]);
  });
});
