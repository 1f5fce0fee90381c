import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClientMessage,
  ClientSession,
  cryptoRandomBytes,
  FRAME_EVENT,
  FrameAssembler,
  generateIdentity,
  ManualClock,
  type ModelParams,
  PROTOCOL_VERSION,
  type SessionEvent,
  type Trainer,
  toFrames,
} from '@fedlearn/core';
import pino from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterEach } from 'vitest';
import { Coordinator, type CoordinatorEvent, type CoordinatorOptions } from '../src/index.js';

export const API_TOKEN = 'test-api-token-0123456789';
export const CLIENT_TOKEN = 'test-client-token-0123456789';
export const SPECS = [{ name: 'w', shape: [4] }];

export function params(values: number[]): ModelParams {
  return [{ name: 'w', shape: [4], values: Float32Array.from(values) }];
}

/** Collects log records in memory so tests can assert what was logged. */
export function memoryLogger() {
  const records: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, records };
}

export async function startCoordinator(options: Partial<CoordinatorOptions> = {}) {
  const { logger, records } = memoryLogger();
  const coordinator = await Coordinator.start({
    port: 0,
    apiToken: API_TOKEN,
    clientToken: CLIENT_TOKEN,
    // The embedded state store lives beside the checkpoints, in the same fresh folder.
    checkpointDir: join(mkdtempSync(join(tmpdir(), 'fedlearn-ckpt-')), 'checkpoints'),
    logger,
    ...options,
  });
  return { coordinator, logs: records };
}

/** `fetch` against the coordinator's control API with the API token (and JSON when there is a body). */
export function apiCaller(coordinator: Coordinator) {
  return (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    fetch(`${coordinator.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    });
}

/** Resolves with the first coordinator event that matches. */
export function nextEvent<T extends CoordinatorEvent['type']>(
  coordinator: Coordinator,
  type: T,
  where: (event: Extract<CoordinatorEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<CoordinatorEvent, { type: T }>> {
  return new Promise((resolve) => {
    const off = coordinator.on((event) => {
      if (event.type === type && where(event as Extract<CoordinatorEvent, { type: T }>)) {
        off();
        resolve(event as Extract<CoordinatorEvent, { type: T }>);
      }
    });
  });
}

/**
 * The coordinator's clock, moved only by the test, so that a deadline passes when the test says
 * and never because a busy machine was slow. It starts at the wall time because clients compare
 * the deadlines they are sent with their own clock.
 */
export function testClock(): ManualClock {
  return new ManualClock(Date.now());
}

/**
 * Resolves once the coordinator has handled a message from each of `clientIds` that matches
 * `match`. It listens on the server side of each client's socket after the coordinator's own
 * listener, which handles a message synchronously, so the message has been acted on by then.
 */
export function handledFrom(
  coordinator: Coordinator,
  clientIds: readonly string[],
  match: (message: Record<string, unknown>) => boolean,
): Promise<void> {
  return Promise.all(
    clientIds.map(
      (clientId) =>
        new Promise<void>((resolve, reject) => {
          const socket = coordinator.clients.get(clientId)?.connection.socket;
          if (!socket) return reject(new Error(`${clientId} is not connected`));
          const assembler = new FrameAssembler({ maxPayloadBytes: 1 << 24 });
          const listener = (frame: unknown) => {
            const message = assembler.accept(frame);
            if (!message || !match(message)) return;
            socket.off(FRAME_EVENT, listener);
            resolve();
          };
          socket.on(FRAME_EVENT, listener);
        }),
    ),
  ).then(() => undefined);
}

/** A trainer doing arithmetic: the new weights are the global ones plus `delta`. */
export function arithmeticTrainer(delta: number, numExamples: number): Trainer {
  return {
    numExamples,
    numEvalExamples: 5,
    backend: 'arithmetic',
    specs: () => SPECS,
    getParameters: async () => ({
      params: params([0, 0, 0, 0]),
      modelTopology: { class_name: 'Sequential', config: {} },
    }),
    fit: async (global) => ({
      params: params(Array.from(global[0]!.values, (v) => v + delta)),
      numExamples,
      metrics: { loss: delta },
    }),
    evaluate: async () => ({ numExamples: 5, loss: delta, metrics: { accuracy: 0.5 } }),
  };
}

/**
 * Decides the fate of each outgoing message, for fault injection: send it (maybe altered), drop
 * it (a silent client), or disconnect instead of sending it.
 */
export type Intercept = (message: ClientMessage) => ClientMessage | 'drop' | 'disconnect';

/** A well-behaved client: the real ClientSession over a real socket.io connection. */
export class TestClient {
  readonly events: SessionEvent[] = [];
  /** Every message the coordinator sent, as received. */
  readonly received: Record<string, unknown>[] = [];
  readonly socket: Socket;
  /** Set to alter, drop or cut outgoing messages; with `comeBack`, a cut client reconnects at once. */
  intercept: Intercept | undefined;
  comeBack = false;
  private readonly session: ClientSession;
  private readonly assembler = new FrameAssembler({ maxPayloadBytes: 1 << 24 });
  private transfer = 0;

  constructor(url: string, clientId: string, trainer: Trainer, token = CLIENT_TOKEN, credential?: string) {
    this.socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.session = new ClientSession({
      clientId,
      trainer,
      transport: { send: async (m) => this.send(m) },
      onEvent: (e) => this.events.push(e),
      ...(credential ? { credential } : {}),
    });
    this.socket.on('connect', () => void this.session.connected());
    this.socket.on(FRAME_EVENT, (frame: unknown) => {
      const message = this.assembler.accept(frame);
      if (!message) return;
      this.received.push(message);
      void this.session.receive(message);
    });
  }

  send(message: ClientMessage): void {
    const fate = this.intercept ? this.intercept(message) : message;
    if (fate === 'drop') return;
    if (fate === 'disconnect') {
      this.socket.disconnect();
      if (this.comeBack) this.socket.connect();
      return;
    }
    for (const frame of toFrames(fate, this.transfer++)) this.socket.emit(FRAME_EVENT, frame);
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** A raw socket that speaks frames directly, for sending what a real client never would. */
export class RawClient {
  readonly received: Record<string, unknown>[] = [];
  readonly socket: Socket;
  private readonly assembler = new FrameAssembler({ maxPayloadBytes: 1 << 24 });
  private transfer = 0;
  private waiters: {
    match: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];

  constructor(url: string, token = CLIENT_TOKEN) {
    this.socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.socket.on(FRAME_EVENT, (frame: unknown) => {
      const message = this.assembler.accept(frame);
      if (!message) return;
      this.received.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
  }

  hello(
    clientId: string,
    protocolVersion = PROTOCOL_VERSION,
    numExamples = 10,
    extra: Record<string, unknown> = {},
  ): void {
    this.sendRaw({
      f: 'm',
      msg: {
        type: 'hello',
        protocolVersion,
        clientId,
        numExamples,
        numEvalExamples: 0,
        capabilities: { secagg: false, backend: 'raw' },
        ...extra,
      },
    });
  }

  sendMessage(message: Record<string, unknown> & { type: string }, chunkBytes?: number): void {
    for (const frame of toFrames(
      message as { type: string; params?: Uint8Array },
      this.transfer++,
      chunkBytes,
    )) {
      this.sendRaw(frame);
    }
  }

  sendRaw(frame: unknown): void {
    this.socket.emit(FRAME_EVENT, frame);
  }

  /** Resolves with the first message (already received or coming) that matches. */
  waitFor(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  close(): void {
    this.socket.disconnect();
  }
}

export const isType = (type: string) => (m: Record<string, unknown>) => m.type === type;
export const isError = (code: string) => (m: Record<string, unknown>) =>
  m.type === 'error' && (m.error as { code: string }).code === code;

export function closeAll(clients: Iterable<{ close(): void }>): void {
  for (const client of clients) client.close();
}

/** Registers cleanups that run, newest first, after each test of the calling file. */
export function cleanupAfterEach(): (() => Promise<void> | void)[] {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** Enrolls `clientId` over the control API (with a fresh identity key unless given one); returns its credential. */
export async function enrollClient(
  coordinator: Coordinator,
  clientId: string,
  identityPublicKey = Buffer.from(generateIdentity(cryptoRandomBytes).publicKey).toString('base64'),
): Promise<string> {
  const response = await fetch(`${coordinator.url}/v1/enrollments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId, identityPublicKey }),
  });
  if (response.status !== 201) throw new Error(`enrolling ${clientId} answered ${response.status}`);
  return ((await response.json()) as { credential: string }).credential;
}
