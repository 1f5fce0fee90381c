import { describe, expect, it } from 'vitest';
import { BIN, run, runDemo } from './run-demo.js';

const DAY_MS = String(24 * 60 * 60 * 1000);

describe('fedlearn demo --secagg (real processes)', () => {
  it('completes every round when clients vanish mid-protocol', async () => {
    // With seed 42 and P = 0.34, one of the 4 clients vanishes in each round by disconnecting: before
    // its keys in round 1, before its shares in rounds 2 and 3 (see dropoutIntercept in
    // commands/client.ts). A stage then closes as soon as the others have answered, so the deadlines
    // are set to a day: no deadline can pass in this test, and a busy machine cannot change its
    // outcome, only its duration.
    const { stdout, report } = await runDemo([
      '--secagg',
      '--dropout',
      '0.34',
      '--clients',
      '4',
      '--rounds',
      '3',
      '--local-epochs',
      '1',
      '--batch-size',
      '64',
      '--stage-timeout',
      DAY_MS,
      '--round-timeout',
      DAY_MS,
    ]);
    expect(stdout).toMatch(/secure aggregation \(semi-honest\) with 0.34 dropout/);
    expect(report.config).toMatchObject({ secagg: true, dropout: 0.34, clients: 4 });
    expect(report.rounds.map((r: { status: string; completed: number }) => [r.status, r.completed])).toEqual([
      ['ok', 3],
      ['ok', 3],
      ['ok', 3],
    ]);
    const lostAt = report.rounds.map(
      (r: { secagg: { stages: { stage: string; expected: number; answered: number }[] } }) =>
        r.secagg.stages.filter((t) => t.answered < t.expected).map((t) => t.stage),
    );
    expect(lostAt).toEqual([['advertise-keys'], ['share-keys'], ['share-keys']]);
    for (const round of report.rounds) {
      expect(round.trainLoss).toBeNull(); // only the sum of the updates is revealed
      expect(typeof round.accuracy).toBe('number');
      expect(round.bytesUp).toBeGreaterThan(0);
    }
    expect(report.final.accuracy).toBeGreaterThan(0.5);
    expect(stdout).toMatch(
      /round 1\/3: 3\/4 clients, accuracy [\d.]+, [\d.]+ s \(secagg: 1 lost at advertise-keys\)/,
    );
  }, 900_000); // four tfjs processes on a loaded 2-core machine can take minutes; only time depends on it

  it('refuses --dropout without --secagg', async () => {
    const failure = await run(process.execPath, [BIN, 'demo', '--dropout', '0.2'], {}).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/--dropout .* --secagg/);
  });
});
