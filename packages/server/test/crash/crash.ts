import { describe, expect, it } from 'vitest';
import { type Kill, ROUNDS, type RunResult, runJob } from './scenario.js';

/**
 * Each step waits for an event (a line from the coordinator, a message at a client, the end of
 * the event stream); the timeout only catches a hang, and is long because a child coordinator
 * starts slowly on a loaded 2-core machine.
 */
const HANG_TIMEOUT_MS = 300_000;

/** Secure rounds quantize with stochastic rounding: each round may differ by one step per coordinate. */
const SECURE_TOLERANCE = (ROUNDS * 2 * 2) / 65535;

/** Plain rounds: killed during training, during aggregation, and after registering before the store write. */
const PLAIN_KILLS: Kill[] = [
  { hold: { point: 'training', round: 2 } },
  { hold: { point: 'aggregation', round: 3 } },
  { hold: { point: 'recorded', round: 4 } },
];

/** Secure rounds: killed in each SecAgg+ stage (advertise keys, share keys, masked input, unmasking). */
const SECURE_KILLS: Kill[] = [
  { received: { round: 1, message: 0 } },
  { received: { round: 2, message: 1 } },
  { received: { round: 3, message: 2 } },
  { received: { round: 4, message: 3 } },
];

function expectExactlyOnce(run: RunResult): void {
  expect(run.rounds.map((r) => [r.round, r.status])).toEqual(
    Array.from({ length: ROUNDS }, (_, i) => [i + 1, 'ok']),
  );
  // One registry version per round: a round registered before a crash is not registered again.
  expect(run.versions.map((v) => v.round).sort()).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
  expect(run.events.filter((e) => e === 'job_finished')).toEqual(['job_finished']);
}

/** The crash suite for one store: every kill point, then the same final model as an uninterrupted run. */
export function describeCrashResume(storeKind: 'embedded' | 'postgres'): void {
  describe(`coordinator SIGKILLed mid-job resumes (${storeKind} store)`, () => {
    it(
      'plain rounds: killed in training, in aggregation and before the round is stored',
      async () => {
        const baseline = await runJob(storeKind, false, []);
        const crashed = await runJob(storeKind, false, PLAIN_KILLS);
        expectExactlyOnce(baseline);
        expectExactlyOnce(crashed);
        crashed.final.forEach((v, i) => {
          expect(v).toBeCloseTo(baseline.final[i] as number, 5);
        });
      },
      HANG_TIMEOUT_MS,
    );

    it(
      'secure rounds: killed in every SecAgg+ stage, each round restarting from setup',
      async () => {
        const baseline = await runJob(storeKind, true, []);
        const crashed = await runJob(storeKind, true, SECURE_KILLS);
        expectExactlyOnce(baseline);
        expectExactlyOnce(crashed);
        crashed.final.forEach((v, i) => {
          expect(Math.abs(v - (baseline.final[i] as number))).toBeLessThanOrEqual(SECURE_TOLERANCE);
        });
      },
      HANG_TIMEOUT_MS,
    );
  });
}
