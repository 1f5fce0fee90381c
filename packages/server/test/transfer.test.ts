import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WEIGHTS_FILE_NAME } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, startCoordinator } from './harness.js';
import { pattern, sessionClient, standInTrainer } from './transfer-clients.js';

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
    const job = coordinator.submitJob({ rounds: 1, federatedEvaluation: false, roundTimeoutMs: 30_000 });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.rounds[0]?.status).toBe('ok');
    expect(await wrongWeights(done.rounds[0]!.checkpoint!, size, (j) => pattern(j) + 2)).toEqual([]);
  });
});

/** The first few parameters of a checkpoint that differ from `expected` (none when the aggregate is exact). */
async function wrongWeights(checkpoint: string, size: number, expected: (j: number) => number) {
  const bytes = await readFile(join(checkpoint, WEIGHTS_FILE_NAME));
  const weights = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  expect(weights.length).toBe(size);
  const wrong: { j: number; value: number }[] = [];
  for (let j = 0; j < size && wrong.length < 5; j++) {
    if (weights[j] !== expected(j)) wrong.push({ j, value: weights[j]! });
  }
  return wrong;
}
