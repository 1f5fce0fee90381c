import { FedAvg, type Strategy } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import type { CoordinatorOptions } from '../src/index.js';
import { API_TOKEN, cleanupAfterEach, startCoordinator } from './harness.js';

const cleanups = cleanupAfterEach();

/** Stands in for a robust strategy (median, Krum, …) that must see each update in the clear. */
function individualUpdatesStrategy(): Strategy {
  const base = new FedAvg({ minFitClients: 3 });
  return Object.create(base, {
    name: { value: 'median-stub' },
    requiresIndividualUpdates: { value: true },
  }) as Strategy;
}

async function post(options: Partial<CoordinatorOptions>, body: unknown) {
  const { coordinator } = await startCoordinator(options);
  cleanups.push(() => coordinator.stop());
  const response = await fetch(`${coordinator.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    error: ((await response.json()) as { error?: { code: string; message: string } }).error,
  };
}

const secure = (secagg: Record<string, unknown>, minFitClients = 3) => ({
  rounds: 1,
  clientWaitMs: 60_000,
  strategy: { minFitClients },
  secagg: { enabled: true, ...secagg },
});

describe('submitting a secure-aggregation job (control API)', () => {
  it('refuses a strategy that needs individual updates with STRATEGY_INCOMPATIBLE', async () => {
    const refused = await post({ strategy: individualUpdatesStrategy }, secure({}));
    expect(refused).toMatchObject({ status: 400, error: { code: 'STRATEGY_INCOMPATIBLE' } });
    expect(refused.error?.message).toMatch(/median-stub/);
    // The same strategy without secure aggregation is fine.
    const plain = await post(
      { strategy: individualUpdatesStrategy },
      { ...secure({}), secagg: { enabled: false } },
    );
    expect(plain.status).toBe(201);
  });

  it('refuses a configuration whose sum could overflow with SECAGG_CONFIG_OVERFLOW', async () => {
    const refused = await post({}, secure({ bits: 24, maxWeight: 2 ** 20 }));
    expect(refused).toMatchObject({ status: 400, error: { code: 'SECAGG_CONFIG_OVERFLOW' } });
    expect(refused.error?.message).toMatch(/secagg: .*bits/);
  });

  it('refuses invalid settings with INVALID_CONFIG', async () => {
    for (const body of [
      secure({}, 2),
      secure({ neighbours: 4, threshold: 5 }),
      secure({ bits: 0 }),
      secure({ clip: -1 }),
      secure({ bogus: true }),
    ]) {
      expect(await post({}, body)).toMatchObject({ status: 400, error: { code: 'INVALID_CONFIG' } });
    }
  });
});
