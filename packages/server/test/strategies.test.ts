import type { FitConfig, StrategyState } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { arithmeticTrainer, cleanupAfterEach, closeAll, startCoordinator, TestClient } from './harness.js';

const cleanups = cleanupAfterEach();

async function runJob(strategy: Record<string, unknown>, rounds = 2) {
  const { coordinator } = await startCoordinator({});
  cleanups.push(() => coordinator.stop());
  const configs: FitConfig[] = [];
  const states: StrategyState[] = [];
  coordinator.on((event) => {
    if (event.type === 'round_completed') states.push(event.strategyState);
  });
  const clients = [1, 2, 3].map((d) => {
    const trainer = arithmeticTrainer(d, 10);
    const fit = trainer.fit.bind(trainer);
    trainer.fit = (global, config) => {
      configs.push(config);
      return fit(global, config);
    };
    return new TestClient(coordinator.url, `c${d}`, trainer);
  });
  cleanups.push(() => closeAll(clients));
  const job = await coordinator.submitJob({ rounds, strategy: { minFitClients: 3, ...strategy } });
  return { done: await coordinator.waitForJob(job.id), configs, states };
}

describe('strategies named in the job spec (real sockets)', () => {
  it('fedprox sends its μ to every sampled client in the fit config', async () => {
    const { done, configs, states } = await runJob({ name: 'fedprox', proximalMu: 0.25 }, 1);
    expect(done.status).toBe('completed');
    expect(configs).toHaveLength(3);
    for (const config of configs) expect(config.proximalMu).toBe(0.25);
    expect(states[0]?.name).toBe('fedprox');
  });

  it('fedavgm steps with server momentum and hands its state out with each round', async () => {
    const { done, configs, states } = await runJob({ name: 'fedavgm', serverMomentum: 0.5 });
    expect(done.status).toBe('completed');
    // Clients add 1, 2, 3 (mean +2): round 1 steps 2, round 2 steps 2 + 0.5·2 = 3.
    expect(states.map((s) => Array.from(s.tensors.momentum ?? []))).toEqual([
      [2, 2, 2, 2],
      [3, 3, 3, 3],
    ]);
    expect(states.map((s) => s.round)).toEqual([1, 2]);
    expect(configs.every((c) => c.proximalMu === undefined)).toBe(true);
  });

  it('refuses an unknown strategy or option at submission with INVALID_CONFIG', async () => {
    const { coordinator } = await startCoordinator({});
    cleanups.push(() => coordinator.stop());
    for (const strategy of [
      { name: 'fedmagic' },
      { name: 'fedadam', momentum: 1 },
      { name: 'krum', byzantine: 3 },
    ]) {
      await expect(coordinator.submitJob({ rounds: 1, strategy })).rejects.toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
  });
});
