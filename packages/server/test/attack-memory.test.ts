import { ManualClock } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, isError, isType, RawClient, startCoordinator } from './harness.js';

const cleanups = cleanupAfterEach();
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

async function rawClient(url: string): Promise<RawClient> {
  const client = new RawClient(url);
  cleanups.push(() => client.close());
  await client.connected();
  return client;
}

function head(id: number, size: number) {
  return {
    f: 'm',
    msg: { type: 'fit_res', jobId: 'j', round: 1 },
    bin: { id, size, chunks: Math.max(1, Math.ceil(size / CHUNK)) },
  };
}

describe('attack: memory held for a connection', () => {
  it('refuses 256 MiB announcements before hello instead of allocating them', async () => {
    const { coordinator } = await startCoordinator({ maxPayloadBytes: 300 * MiB, chunkBytes: CHUNK });
    cleanups.push(() => coordinator.stop());
    const evil = await rawClient(coordinator.url);
    for (let id = 0; id < 4; id++) evil.sendRaw(head(id, 256 * MiB));
    await evil.waitFor(() => evil.received.filter(isError('PAYLOAD_TOO_LARGE')).length === 4);
    const [connection] = [
      ...(coordinator as unknown as { connections: Set<{ bufferedBytes: number }> }).connections,
    ];
    expect(connection?.bufferedBytes).toBe(0);
  });

  it('holds only the chunks that arrived, and drops an unfinished transfer at its timeout', async () => {
    const clock = new ManualClock(Date.now());
    const { coordinator } = await startCoordinator({
      clock,
      maxPayloadBytes: 8 * MiB,
      chunkBytes: CHUNK,
      transferTimeoutMs: 10_000,
    });
    cleanups.push(() => coordinator.stop());
    const client = await rawClient(coordinator.url);
    client.hello('slow-sender');
    await client.waitFor(isType('welcome'));
    client.sendRaw(head(0, 4 * MiB));
    client.sendRaw({ f: 'c', id: 0, i: 0, data: new Uint8Array(CHUNK) });
    // Frames are handled in order: once this bad one is refused, the chunk before it was taken.
    client.sendRaw({ f: 'x' });
    await client.waitFor(isError('MALFORMED_MESSAGE'));
    const connection = coordinator.clients.get('slow-sender')!.connection;
    expect(connection.bufferedBytes).toBe(CHUNK);
    clock.advance(10_000);
    expect(connection.bufferedBytes).toBe(0);
    const expired = await client.waitFor(isError('TRANSFER_INCOMPLETE'));
    expect(expired.inReplyTo).toEqual({ type: 'fit_res', jobId: 'j', round: 1 });
  });
});
