import type { RoundResult } from '../../src/store/index.js';

/** The result the crash writer records for a round, so the test can check every byte came back. */
export function crashResult(round: number): RoundResult {
  return {
    participants: ['client-a', 'client-b'],
    metrics: { loss: 1 / round, round, note: 'x'.repeat(round % 700) },
    checkpoint: {
      uri: `file:///ckpt/job-1/round-${round}`,
      sha256: (round % 256).toString(16).padStart(2, '0').repeat(32),
    },
    strategyState: { round, velocity: Array.from({ length: 16 }, (_, i) => i * round) },
  };
}
