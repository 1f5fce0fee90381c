import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, isError, isType, RawClient, startCoordinator } from './harness.js';

const cleanups = cleanupAfterEach();

const BAD_IDS = [
  '__proto__',
  'toString',
  'constructor',
  'hasOwnProperty',
  '',
  'x'.repeat(129),
  'a b',
  '-lead',
  'é',
];

describe('attack: client ids and names that are not plain', () => {
  it('refuses prototype keys, empty, over-long and odd ids as client ids; registers none of them', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const evil = new RawClient(coordinator.url);
    cleanups.push(() => evil.close());
    await evil.connected();
    for (const id of BAD_IDS) evil.hello(id);
    await evil.waitFor(() => evil.received.filter(isError('MALFORMED_MESSAGE')).length === BAD_IDS.length);
    expect(evil.received.some(isType('welcome'))).toBe(false);
    expect(coordinator.clients.size).toBe(0);
    expect(coordinator.clients.ready()).toEqual([]);
  });

  it('refuses metric names that are prototype keys', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const client = new RawClient(coordinator.url);
    cleanups.push(() => client.close());
    await client.connected();
    client.hello('plain-id.1');
    await client.waitFor(isType('welcome'));
    client.sendMessage({
      type: 'evaluate_res',
      jobId: 'j',
      round: 1,
      numExamples: 1,
      loss: 1,
      metrics: { constructor: 1 },
    });
    const refusal = await client.waitFor((m) => m.type === 'error');
    expect((refusal.error as { code: string }).code).toBe('MALFORMED_MESSAGE');
    expect((refusal.error as { message: string }).message).toMatch(/metrics\.constructor/);
  });
});
