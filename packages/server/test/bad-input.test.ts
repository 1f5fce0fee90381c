import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeParams, PROTOCOL_VERSION } from '@fedlearn/core';
import { sha256 } from '@noble/hashes/sha2.js';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import {
  arithmeticTrainer,
  CLIENT_TOKEN,
  cleanupAfterEach,
  closeAll,
  isError,
  nextEvent,
  params,
  RawClient,
  startCoordinator,
  TestClient,
} from './harness.js';

const cleanups = cleanupAfterEach();

/** A valid-looking payload (right magic, shapes and hash) that carries a NaN. */
function nanPayload(): Uint8Array {
  const bytes = encodeParams(params([1, 2, 3, 4]));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setFloat32(bytes.length - 32 - 8, Number.NaN, true);
  bytes.set(sha256(bytes.subarray(0, bytes.length - 32)), bytes.length - 32);
  return bytes;
}

describe('bad input from clients', () => {
  it('refuses each bad update with a typed error to its sender, logs it, and the round completes with the others', async () => {
    const { coordinator, logs } = await startCoordinator({ maxPayloadBytes: 1000 });
    cleanups.push(() => coordinator.stop());
    const good = [1, 2].map((d) => new TestClient(coordinator.url, `good-${d}`, arithmeticTrainer(d, 10)));
    const bad = {
      wrongLength: new RawClient(coordinator.url),
      nan: new RawClient(coordinator.url),
      garbage: new RawClient(coordinator.url),
      tooLarge: new RawClient(coordinator.url),
      stale: new RawClient(coordinator.url),
    };
    cleanups.push(() => {
      closeAll(good);
      closeAll(Object.values(bad));
    });
    for (const [name, client] of Object.entries(bad)) {
      await client.connected();
      client.hello(name);
    }
    await nextEvent(coordinator, 'client_joined', (e) => e.connected === 7);
    const job = await coordinator.submitJob({
      rounds: 1,
      roundTimeoutMs: 10_000,
      federatedEvaluation: false,
      strategy: { minFitClients: 2, minAvailableClients: 7 },
      model: {
        params: Buffer.from(encodeParams(params([0, 0, 0, 0]))).toString('base64'),
        topology: { class_name: 'Sequential', config: {} },
      },
    });
    const fitRes = (extra: Record<string, unknown>) => ({
      type: 'fit_res',
      jobId: job.id,
      round: 1,
      numExamples: 10,
      metrics: { loss: 1 },
      ...extra,
    });
    await Promise.all(Object.values(bad).map((c) => c.waitFor((m) => m.type === 'fit_ins')));

    bad.wrongLength.sendMessage(
      fitRes({ params: encodeParams([{ name: 'w', shape: [5], values: new Float32Array(5).fill(100) }]) }),
    );
    bad.nan.sendMessage(fitRes({ params: nanPayload() }));
    bad.garbage.sendMessage(fitRes({ params: Uint8Array.from({ length: 100 }, (_, i) => (i * 37) % 256) }));
    bad.tooLarge.sendMessage(fitRes({ params: new Uint8Array(5000) }));
    bad.stale.sendMessage(fitRes({ round: 99, params: encodeParams(params([9, 9, 9, 9])) }));

    const codes = await Promise.all([
      bad.wrongLength.waitFor(isError('PARAMS_SHAPE_MISMATCH')),
      bad.nan.waitFor(isError('PARAMS_NOT_FINITE')),
      bad.garbage.waitFor(isError('PARAMS_BAD_MAGIC')),
      bad.tooLarge.waitFor(isError('PAYLOAD_TOO_LARGE')),
      bad.stale.waitFor(isError('STALE_ROUND')),
    ]);
    for (const refusal of codes) expect(refusal.fatal).toBe(false);
    // The stale sender is not punished: its update for the current round still counts.
    bad.stale.sendMessage(fitRes({ params: encodeParams(params([6, 6, 6, 6])) }));

    const done = await coordinator.waitForJob(job.id);
    const [round] = done.rounds;
    expect(round).toMatchObject({ status: 'ok', sampled: 7, completed: 3, failed: 4, timedOut: 0 });
    // The model is the example-weighted mean of exactly the good updates (1 and 2) and the stale
    // sender's later valid one (6), each on 10 examples: no refused update moved it.
    const bin = readFileSync(join(round!.checkpoint!, 'group1-shard1of1.bin'));
    expect(Array.from(new Float32Array(bin.buffer, bin.byteOffset, 4))).toEqual([3, 3, 3, 3]);
    expect(round!.trainLoss).toBeCloseTo((1 + 2 + 1) / 3, 6);
    for (const code of [
      'PARAMS_SHAPE_MISMATCH',
      'PARAMS_NOT_FINITE',
      'PARAMS_BAD_MAGIC',
      'PAYLOAD_TOO_LARGE',
      'STALE_ROUND',
    ]) {
      expect(
        logs.some((l) => l.code === code && String(l.msg).startsWith('refused')),
        code,
      ).toBe(true);
    }
    for (const client of good) expect(client.events.filter((e) => e.type === 'server_error')).toEqual([]);
  });

  it('refuses garbage frames, messages before hello, results when no job runs, and malformed hellos', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const raw = new RawClient(coordinator.url);
    cleanups.push(() => raw.close());
    await raw.connected();
    raw.sendRaw('not a frame');
    await raw.waitFor(isError('MALFORMED_MESSAGE'));
    raw.sendMessage({ type: 'heartbeat', sentAt: 1 });
    await raw.waitFor(isError('UNKNOWN_CLIENT'));
    raw.hello('r1');
    await raw.waitFor((m) => m.type === 'welcome');
    raw.sendMessage({
      type: 'fit_res',
      jobId: 'nope',
      round: 1,
      numExamples: 1,
      metrics: {},
      params: encodeParams(params([0, 0, 0, 0])),
    });
    await raw.waitFor(isError('STALE_ROUND'));
    raw.sendMessage({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'bad id!',
      numExamples: 1,
      numEvalExamples: 0,
      capabilities: { secagg: false, backend: 'x' },
    });
    const malformed = await raw.waitFor(
      (m) => isError('MALFORMED_MESSAGE')(m) && (m.inReplyTo as { type?: string })?.type === 'hello',
    );
    expect((malformed.error as { message: string }).message).toContain('clientId');
  });

  it('refuses a hello with another major protocol version at the handshake and disconnects', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const raw = new RawClient(coordinator.url);
    cleanups.push(() => raw.close());
    await raw.connected();
    const disconnected = new Promise((resolve) => raw.socket.once('disconnect', resolve));
    raw.hello('future', '2.0.0');
    const refusal = await raw.waitFor(isError('PROTOCOL_VERSION_MISMATCH'));
    expect(refusal.fatal).toBe(true);
    await disconnected;
    expect(coordinator.clients.size).toBe(0);
  });

  it('refuses a socket without the client token', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const socket = io(coordinator.url, {
      auth: { token: `${CLIENT_TOKEN}x` },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    cleanups.push(() => void socket.disconnect());
    const error = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      socket.once('connect_error', resolve),
    );
    expect(error.data?.code).toBe('UNAUTHORIZED');
  });

  it('lets a reconnecting client replace its old connection', async () => {
    const { coordinator } = await startCoordinator();
    cleanups.push(() => coordinator.stop());
    const first = new RawClient(coordinator.url);
    const second = new RawClient(coordinator.url);
    cleanups.push(() => {
      first.close();
      second.close();
    });
    await first.connected();
    first.hello('same');
    await first.waitFor((m) => m.type === 'welcome');
    await second.connected();
    second.hello('same');
    await second.waitFor((m) => m.type === 'welcome');
    await first.waitFor(isError('DUPLICATE_CLIENT'));
    expect(coordinator.clients.size).toBe(1);
    expect(coordinator.clients.get('same')?.connection.id).toBe(second.socket.id);
  });
});
