import { computeEpsilon, createRng, type FitConfig } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { arithmeticTrainer, cleanupAfterEach, closeAll, startCoordinator, TestClient } from './harness.js';

const cleanups = cleanupAfterEach();

describe('differential privacy in a job (real sockets)', () => {
  it('central DP: clients are asked to clip, and ε spent so far is in every round summary', async () => {
    const { coordinator } = await startCoordinator({ privacyRng: createRng(5) });
    cleanups.push(() => coordinator.stop());
    const configs: FitConfig[] = [];
    const clients = [1, 2, 3].map((d) => {
      const trainer = arithmeticTrainer(d, 10 * d);
      const fit = trainer.fit.bind(trainer);
      trainer.fit = (global, config) => {
        configs.push(config);
        return fit(global, config);
      };
      return new TestClient(coordinator.url, `c${d}`, trainer);
    });
    cleanups.push(() => closeAll(clients));
    const privacy = { mode: 'central', noiseMultiplier: 1.1, clipNorm: 0.5, delta: 1e-5 } as const;
    const job = await coordinator.submitJob({ rounds: 3, strategy: { minFitClients: 3 }, privacy });
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('completed');
    expect(configs.every((c) => c.privacy?.clipNorm === 0.5 && c.privacy.noise === undefined)).toBe(true);
    done.rounds.forEach((round, i) => {
      const expected = computeEpsilon({ samplingRate: 1, noiseMultiplier: 1.1, steps: i + 1 }, 1e-5).epsilon;
      expect(round.privacy?.epsilon).toBeCloseTo(expected, 10);
      expect(round.privacy?.steps).toBe(i + 1);
    });
    expect(done.privacy).toMatchObject({ mode: 'central', rounds: 3, delta: 1e-5 });
    expect(done.privacy?.stopped).toBeUndefined();
  });

  it('refuses a job whose plan exceeds its target ε, with PRIVACY_BUDGET_EXCEEDED', async () => {
    const { coordinator } = await startCoordinator({});
    cleanups.push(() => coordinator.stop());
    const privacy = { mode: 'central', noiseMultiplier: 1, targetEpsilon: 4 } as const;
    await expect(
      coordinator.submitJob({ rounds: 50, strategy: { minFitClients: 3 }, privacy }),
    ).rejects.toThrow(expect.objectContaining({ code: 'PRIVACY_BUDGET_EXCEEDED' }));
    expect(coordinator.jobs.size).toBe(0);
  });

  it('with onBudgetExceeded "stop", runs to the last round within budget and says so', async () => {
    const { coordinator } = await startCoordinator({ privacyRng: createRng(6) });
    cleanups.push(() => coordinator.stop());
    const clients = [1, 2, 3].map((d) => new TestClient(coordinator.url, `c${d}`, arithmeticTrainer(d, 10)));
    cleanups.push(() => closeAll(clients));
    // σ = 3: ε(1 round) ≈ 1.6 and ε(2 rounds) ≈ 2.3 at δ = 1e-5 — a target of 2 fits one round.
    const privacy = {
      mode: 'central',
      noiseMultiplier: 3,
      targetEpsilon: 2,
      onBudgetExceeded: 'stop',
    } as const;
    const job = await coordinator.submitJob({ rounds: 5, strategy: { minFitClients: 3 }, privacy });
    const done = await coordinator.waitForJob(job.id);
    const fits = [1, 2, 3, 4, 5].filter(
      (t) => computeEpsilon({ samplingRate: 1, noiseMultiplier: 3, steps: t }, 1e-5).epsilon <= 2,
    ).length;
    expect(fits).toBe(1);
    expect(done.status).toBe('completed');
    expect(done.rounds).toHaveLength(fits);
    expect(done.privacy?.stopped).toMatchObject({ atRound: fits, requestedRounds: 5 });
    expect(done.privacy?.epsilon).toBeLessThanOrEqual(2);
  });

  it('refuses distributed DP without secure aggregation, central DP with it, and robust strategies', async () => {
    const { coordinator } = await startCoordinator({});
    cleanups.push(() => coordinator.stop());
    await expect(
      coordinator.submitJob({ rounds: 1, strategy: { minFitClients: 3 }, privacy: { mode: 'distributed' } }),
    ).rejects.toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    await expect(
      coordinator.submitJob({
        rounds: 1,
        strategy: { minFitClients: 3 },
        secagg: { enabled: true },
        privacy: { mode: 'central' },
      }),
    ).rejects.toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    // The ring's range (clip 1) cannot hold an update of norm 1 and its noise share.
    await expect(
      coordinator.submitJob({
        rounds: 1,
        strategy: { minFitClients: 3 },
        secagg: { enabled: true },
        privacy: { mode: 'distributed', noiseMultiplier: 2 },
      }),
    ).rejects.toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    await expect(
      coordinator.submitJob({
        rounds: 1,
        strategy: { name: 'median', minFitClients: 3 },
        privacy: { mode: 'central' },
      }),
    ).rejects.toThrow(expect.objectContaining({ code: 'STRATEGY_INCOMPATIBLE' }));
  });
});
