import { FRAME_EVENT } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, closeAll, isError, isType, RawClient, startCoordinator } from './harness.js';

const cleanups = cleanupAfterEach();

/** `{"a":{"a":…1…}}` nested `depth` levels, as JSON text (the attacker writes it by hand). */
function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Writes a socket.io event packet by hand (engine.io adds its `4`), so no client-side encoder limits what is sent. */
function writeRawEvent(client: RawClient, frameJson: string): void {
  (client.socket.io.engine as unknown as { write(data: string): void }).write(
    `2["${FRAME_EVENT}",${frameJson}]`,
  );
}

async function attacker(url: string): Promise<RawClient> {
  const client = new RawClient(url);
  cleanups.push(() => client.close());
  await client.connected();
  return client;
}

/** The coordinator still serves a newcomer: a hello is answered with a welcome. */
async function stillServes(url: string): Promise<void> {
  const probe = await attacker(url);
  probe.hello('probe-after-attack');
  await probe.waitFor(isType('welcome'));
}

/** Every value in a refusal is a short string, a finite number, a boolean or null. */
function expectOnlyShortScalars(value: unknown, depth = 0): void {
  expect(depth).toBeLessThan(4);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') return void expect(Number.isFinite(value)).toBe(true);
  if (typeof value === 'string') return void expect(value.length).toBeLessThanOrEqual(4096);
  expect(typeof value).toBe('object');
  for (const inner of Object.values(value as object)) expectOnlyShortScalars(inner, depth + 1);
}

describe('attack: packets built to crash or amplify', () => {
  it('survives type, jobId and round nested thousands of levels deep, and echoes none of them', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const evil = await attacker(coordinator.url);
    const deep = nestedJson(5000);
    // A bad binary descriptor makes the refusal describe the message it belonged to.
    writeRawEvent(
      evil,
      `{"f":"m","msg":{"type":${deep},"jobId":${deep},"round":${deep}},"bin":{"id":-1,"size":1,"chunks":1}}`,
    );
    writeRawEvent(evil, `{"f":"m","msg":{"type":${deep}}}`);
    writeRawEvent(evil, `{"f":"m","msg":{"type":"hello","capabilities":${deep}}}`);
    const refusals = await evil.waitFor(() => evil.received.filter(isError('MALFORMED_MESSAGE')).length >= 3);
    expect(refusals.type).toBe('error');
    for (const refusal of evil.received) expectOnlyShortScalars(refusal);
    await stillServes(coordinator.url);
  });

  it('answers a 570 KB jobId with a short refusal, not a 1.1 MB echo', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const evil = await attacker(coordinator.url);
    const replyBytes: number[] = [];
    evil.socket.on(FRAME_EVENT, (frame: unknown) => replyBytes.push(JSON.stringify(frame).length));
    const jobId = 'j'.repeat(570 * 1024);
    evil.sendRaw({ f: 'm', msg: { type: 'fit_res', jobId, round: 1 }, bin: { id: 0, size: 1, chunks: 7 } });
    await evil.waitFor(isError('MALFORMED_MESSAGE'));
    expect(replyBytes).toHaveLength(1);
    expect(replyBytes[0]).toBeLessThan(2048);
    await stillServes(coordinator.url);
  });

  it('refuses, with a typed error and no crash, each of a fixed list of odd frames from an unidentified peer', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const evil = await attacker(coordinator.url);
    const odd: unknown[] = [
      null,
      [],
      'x',
      42,
      { f: 'm' },
      { f: 'm', msg: [] },
      { f: 'm', msg: { type: 'fit_res', jobId: { toString: 1 } } },
      { f: 'm', msg: { type: 'heartbeat', sentAt: 1 }, bin: { id: 1, size: 2 ** 53, chunks: 1 } },
      { f: 'c', id: 1, i: 0, data: 'x' },
      { f: 'm', msg: { type: 'hello', clientId: { __proto__: null } } },
      { f: 'm', msg: { type: '__proto__', jobId: 'constructor', round: Number.MAX_VALUE } },
    ];
    for (const frame of odd) evil.sendRaw(frame);
    await evil.waitFor(() => evil.received.filter((m) => m.type === 'error').length >= odd.length);
    for (const refusal of evil.received) {
      expect(refusal.type).toBe('error');
      expectOnlyShortScalars(refusal);
    }
    await stillServes(coordinator.url);
    closeAll([evil]);
  });
});
