import { afterEach, describe, expect, it, vi } from 'vitest';
import { FRAME_EVENT, FrameAssembler } from '../protocol/framing.js';
import { type ConnectionEvent, SessionConnection, type SocketLike } from './socket-connection.js';
import type { Trainer } from './types.js';

/** A socket.io client socket stand-in: records what is emitted and lets the test fire events. */
class FakeSocket implements SocketLike {
  connected = false;
  readonly emitted: unknown[] = [];
  readonly calls: string[] = [];
  private readonly handlers = new Map<string, ((...args: never[]) => void)[]>();

  on(event: string, listener: (...args: never[]) => void): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
  }
  emit(event: string, frame: unknown): void {
    if (event === FRAME_EVENT) this.emitted.push(frame);
  }
  connect(): void {
    this.calls.push('connect');
  }
  disconnect(): void {
    this.calls.push('disconnect');
    this.connected = false;
  }
  fire(event: string, ...args: unknown[]): void {
    if (event === 'connect') this.connected = true;
    for (const h of this.handlers.get(event) ?? []) (h as (...a: unknown[]) => void)(...args);
  }
  /** The whole messages emitted so far, reassembled from their frames. */
  messages(): Record<string, unknown>[] {
    const assembler = new FrameAssembler({ maxPayloadBytes: 1 << 20 });
    return this.emitted.flatMap((frame) => {
      const message = assembler.accept(frame);
      return message ? [message] : [];
    });
  }
}

const trainer: Trainer = {
  numExamples: 3,
  numEvalExamples: 0,
  backend: 'fake',
  specs: () => [],
  getParameters: async () => ({ params: [], modelTopology: {} }),
  fit: async () => ({ params: [], numExamples: 3, metrics: {} }),
  evaluate: async () => ({ numExamples: 0, loss: 0, metrics: {} }),
};

function connect() {
  const socket = new FakeSocket();
  const events: ConnectionEvent[] = [];
  const connection = new SessionConnection(socket, {
    clientId: 'c1',
    trainer,
    runtime: 'test',
    reconnect: { initialDelayMs: 100, jitter: 0 },
    onEvent: (e) => events.push(e),
  });
  return { socket, events, connection };
}

afterEach(() => vi.useRealTimers());

describe('SessionConnection', () => {
  it('says hello on every connection and reports what it sent', async () => {
    const { socket, events } = connect();
    socket.fire('connect');
    await vi.waitFor(() => expect(socket.messages().map((m) => m.type)).toEqual(['hello']));
    expect(events.map((e) => e.type)).toEqual(['connected', 'message_sent']);
  });

  it('suspends without stopping and resumes with a fresh hello; stop() is final', async () => {
    const { socket, connection } = connect();
    socket.fire('connect');
    connection.suspend();
    expect(socket.calls).toEqual(['disconnect']);
    expect(connection.isStopped).toBe(false);
    connection.resume();
    expect(socket.calls).toEqual(['disconnect', 'connect']);
    socket.fire('connect');
    await vi.waitFor(() => expect(socket.messages().map((m) => m.type)).toEqual(['hello', 'hello']));
    connection.stop();
    connection.resume();
    expect(socket.calls).toEqual(['disconnect', 'connect', 'disconnect']);
    await expect(connection.done).resolves.toBeUndefined();
  });

  it('comes back after its backoff when the server closes the socket', () => {
    vi.useFakeTimers();
    const { socket } = connect();
    socket.fire('connect');
    socket.fire('disconnect', 'io server disconnect');
    expect(socket.calls).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(socket.calls).toEqual(['connect']);
  });

  it('ends with UNAUTHORIZED when the coordinator refuses the token', async () => {
    const { socket, connection } = connect();
    const refusal = Object.assign(new Error('unauthorized'), {
      data: { code: 'UNAUTHORIZED', message: 'bad token' },
    });
    socket.fire('connect_error', refusal);
    await expect(connection.done).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(socket.calls).toEqual(['disconnect']);
  });
});
