import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ClientEvent, FederatedClient, selectBackend, TfjsTrainer } from '@fedlearn/client-node';
import { type Clock, isFedlearnError, ManualClock } from '@fedlearn/core';
import { Coordinator } from '@fedlearn/server';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../dist/bin.js');
const TOKEN = 'connection-client-token-0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function start(port = 0) {
  return Coordinator.start({
    port,
    apiToken: 'connection-api-token-0123456789',
    clientToken: TOKEN,
    checkpointDir: mkdtempSync(join(tmpdir(), 'fedlearn-conn-')),
    logger: pino({ level: 'silent' }),
  });
}

function tinyTrainer(): TfjsTrainer {
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ name: 'out', inputShape: [2], units: 2, activation: 'softmax' })],
  });
  return new TfjsTrainer({
    model,
    train: {
      x: tf.tensor2d([
        [0, 1],
        [1, 0],
      ]),
      y: tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
    },
  });
}

function joined(coordinator: Coordinator, clientId: string): Promise<void> {
  return new Promise((done) => {
    if (coordinator.clients.get(clientId)) return done();
    const off = coordinator.on((e) => {
      if (e.type === 'client_joined' && e.clientId === clientId) {
        off();
        done();
      }
    });
  });
}

describe('FederatedClient connection handling', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('reconnects with backoff after the coordinator restarts, and says hello again', async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    const events: ClientEvent['type'][] = [];
    // The client's timers run on a clock the test moves; each records its delay when it fires.
    const clock = new ManualClock(Date.now());
    const fired: number[] = [];
    let onDisconnected!: () => void;
    const clientDisconnected = new Promise<void>((done) => {
      onDisconnected = done;
    });
    const recording: Clock = {
      now: () => clock.now(),
      setTimeout: (callback, ms) =>
        clock.setTimeout(() => {
          fired.push(ms);
          callback();
        }, ms),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    };
    const client = new FederatedClient({
      serverUrl: first.url,
      token: TOKEN,
      clientId: 'phoenix',
      trainer: tinyTrainer(),
      handleSignals: false,
      reconnect: { initialDelayMs: 400, maxDelayMs: 2000, jitter: 0.5 },
      clock: recording,
      random: () => 0.9,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'disconnected') onDisconnected();
      },
    });
    cleanups.push(() => client.stop());
    await client.start();
    await joined(first, 'phoenix');
    await first.stop();
    await clientDisconnected; // its reconnection timer is set by now
    const second = await start(port);
    cleanups.push(() => second.stop());
    // Backoff 400 ms ± 50 % jitter, with the jitter draw 0.9: 400 · (1 + 0.5 · 0.8) = 560 ms.
    clock.advance(559);
    expect(fired).toEqual([]);
    expect(events.filter((t) => t === 'connected')).toHaveLength(1);
    clock.advance(1);
    expect(fired).toEqual([560]);
    await joined(second, 'phoenix');
    expect(events.filter((t) => t === 'connected')).toHaveLength(2);
    expect(events).toContain('disconnected');
    expect(second.clients.get('phoenix')?.info.dataFingerprint?.examples).toBe(2);
  });

  it('gives up at once with UNAUTHORIZED when the token is wrong', async () => {
    const coordinator = await start();
    cleanups.push(() => coordinator.stop());
    const client = new FederatedClient({
      serverUrl: coordinator.url,
      token: 'wrong-token-wrong-token-wrong',
      clientId: 'intruder',
      trainer: tinyTrainer(),
      handleSignals: false,
    });
    const error = await client.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFedlearnError(error, 'UNAUTHORIZED')).toBe(true);
    await expect(client.done).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('a `fedlearn client` process stops cleanly on SIGTERM', async () => {
    const coordinator = await start();
    cleanups.push(() => coordinator.stop());
    const child = spawn(
      process.execPath,
      [BIN, 'client', '--server', coordinator.url, '--index', '0', '--clients', '5', '--backend', 'cpu'],
      {
        env: { ...process.env, FEDLEARN_CLIENT_TOKEN: TOKEN },
        stdio: 'ignore',
      },
    );
    cleanups.push(() => void child.kill('SIGKILL'));
    await joined(coordinator, 'client-0');
    const left = new Promise<void>((done) => coordinator.on((e) => e.type === 'client_left' && done()));
    const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await left;
    expect(coordinator.clients.size).toBe(0);
  });
});
