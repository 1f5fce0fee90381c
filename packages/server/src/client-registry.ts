import type { ClientInfo, Clock, Hello } from '@fedlearn/core';
import type { ClientConnection } from './connection.js';

export interface RegisteredClient {
  info: ClientInfo;
  connection: ClientConnection;
  joinedAt: number;
  lastSeen: number;
  runtime: string | undefined;
}

type Listener = () => void;

/** The clients that have said hello, by client id. A reconnecting client replaces its old connection. */
export class ClientRegistry {
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly listeners = new Set<Listener>();

  /**
   * Registers the client saying hello on `connection`. Returns the registration it displaced:
   * `replaced`, the same id's older connection; `renamedFrom`, the id this connection said
   * before (a connection is one client, so its earlier id is forgotten, not left as a ghost).
   */
  register(
    connection: ClientConnection,
    hello: Hello,
    now: number,
  ): { replaced?: RegisteredClient; renamedFrom?: string } {
    const earlierId = connection.clientId;
    const renamedFrom =
      earlierId !== undefined && earlierId !== hello.clientId && this.remove(connection) !== undefined
        ? earlierId
        : undefined;
    const previous = this.clients.get(hello.clientId);
    const client: RegisteredClient = {
      info: {
        clientId: hello.clientId,
        numExamples: hello.numExamples,
        numEvalExamples: hello.numEvalExamples,
        capabilities: hello.capabilities,
        ...(hello.dataFingerprint ? { dataFingerprint: hello.dataFingerprint } : {}),
      },
      connection,
      joinedAt: now,
      lastSeen: now,
      runtime: hello.runtime,
    };
    connection.identified(hello.clientId);
    this.clients.set(hello.clientId, client);
    this.notify();
    return {
      ...(previous && previous.connection !== connection ? { replaced: previous } : {}),
      ...(renamedFrom === undefined ? {} : { renamedFrom }),
    };
  }

  /** Forgets the client on `connection`, unless it already reconnected on another one. */
  remove(connection: ClientConnection): string | undefined {
    const id = connection.clientId;
    if (id === undefined || this.clients.get(id)?.connection !== connection) return undefined;
    this.clients.delete(id);
    this.notify();
    return id;
  }

  touch(clientId: string, now: number): void {
    const client = this.clients.get(clientId);
    if (client) client.lastSeen = now;
  }

  /** Clients heard from last before `time` (ms): candidates for eviction. */
  silentSince(time: number): RegisteredClient[] {
    return [...this.clients.values()].filter((c) => c.lastSeen < time);
  }

  get(clientId: string): RegisteredClient | undefined {
    return this.clients.get(clientId);
  }

  /** Whether `connection` is the live connection of a registered client. */
  isCurrent(connection: ClientConnection): boolean {
    return (
      connection.clientId !== undefined && this.clients.get(connection.clientId)?.connection === connection
    );
  }

  ready(): ClientInfo[] {
    return [...this.clients.values()].map((c) => c.info);
  }

  all(): RegisteredClient[] {
    return [...this.clients.values()];
  }

  get size(): number {
    return this.clients.size;
  }

  /** Calls `listener` whenever a client joins or leaves; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true once `count` clients are connected, false after `timeoutMs` or when `signal` aborts. */
  waitForClients(count: number, timeoutMs: number, clock: Clock, signal?: AbortSignal): Promise<boolean> {
    return this.waitUntil(() => this.size >= count, timeoutMs, clock, signal);
  }

  /** Resolves true once a client not in `known` is connected, false on timeout or abort. */
  waitForNewClient(
    known: ReadonlySet<string>,
    timeoutMs: number,
    clock: Clock,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return this.waitUntil(
      () => [...this.clients.keys()].some((id) => !known.has(id)),
      timeoutMs,
      clock,
      signal,
    );
  }

  private waitUntil(
    ready: () => boolean,
    timeoutMs: number,
    clock: Clock,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        clock.clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = () => finish(false);
      const timer = clock.setTimeout(() => finish(false), Math.max(1, timeoutMs));
      const unsubscribe = this.subscribe(() => {
        if (ready()) finish(true);
      });
      signal?.addEventListener('abort', onAbort);
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
