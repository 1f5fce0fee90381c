import {
  type ClientMessage,
  ClientSession,
  DEFAULT_MAX_PARAMS_BYTES,
  FedlearnError,
  FRAME_EVENT,
  FrameAssembler,
  isErrorCode,
  type SecAggClientSettings,
  type SessionEvent,
  type Trainer,
  toFrames,
} from '@fedlearn/core';
import { io, type Socket } from 'socket.io-client';

export interface FederatedClientOptions {
  /** Coordinator URL, e.g. `http://127.0.0.1:8700`. */
  serverUrl: string;
  /** The coordinator's client token. */
  token: string;
  clientId: string;
  trainer: Trainer;
  /** PEM CA certificate(s) to trust for an `https` coordinator with a private CA. */
  ca?: string;
  /** Reconnection backoff: doubles from `initialDelayMs` up to `maxDelayMs`, ± `jitter` (0–1). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; jitter?: number };
  maxPayloadBytes?: number;
  chunkBytes?: number;
  onEvent?: (event: ClientEvent) => void;
  /** Stop cleanly on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Take part in secure-aggregation rounds (default true). */
  secureAggregation?: boolean;
  /** Secure-aggregation policy and identity key (malicious-server mode): see `SecAggClientSettings`. */
  secagg?: SecAggClientSettings;
  /**
   * Fault injection for demos and tests: sees each outgoing message and sends it (as returned),
   * drops it (the client goes silent), or disconnects instead (it comes back after its backoff).
   */
  intercept?: (message: ClientMessage) => ClientMessage | 'drop' | 'disconnect';
}

export type ClientEvent =
  | SessionEvent
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string }
  | { type: 'connect_error'; message: string };

/**
 * A federated-learning client for Node: connects to a coordinator, trains when asked, and
 * reconnects with exponential backoff and jitter until stopped.
 *
 * @example
 * const client = new FederatedClient({ serverUrl, token, clientId: 'node-1', trainer });
 * await client.start();
 * await client.done; // until stop(), a signal, or a fatal error
 */
export class FederatedClient {
  private socket: Socket | undefined;
  private readonly session: ClientSession;
  private assembler: FrameAssembler;
  private nextTransferId = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private signalHandler: (() => void) | undefined;
  private stopped = false;
  /** Settles when the client stops: resolves on stop() or a signal, rejects on a fatal error. */
  readonly done: Promise<void>;

  constructor(private readonly options: FederatedClientOptions) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
    this.assembler = this.newAssembler();
    this.session = new ClientSession({
      clientId: options.clientId,
      trainer: options.trainer,
      transport: { send: (message) => this.send(message) },
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PARAMS_BYTES,
      runtime: `node ${process.versions.node}`,
      ...(options.secureAggregation === undefined ? {} : { secureAggregation: options.secureAggregation }),
      ...(options.secagg ? { secagg: options.secagg } : {}),
      onEvent: (event) => this.onSessionEvent(event),
    });
  }

  /** Connects; resolves once the coordinator has accepted the socket (or rejects on a fatal refusal). */
  start(): Promise<void> {
    const { reconnect = {} } = this.options;
    const socket = io(this.options.serverUrl, {
      auth: { token: this.options.token },
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: reconnect.initialDelayMs ?? 500,
      reconnectionDelayMax: reconnect.maxDelayMs ?? 10_000,
      randomizationFactor: reconnect.jitter ?? 0.5,
      ...(this.options.ca ? { ca: this.options.ca } : {}),
    });
    this.socket = socket;
    if (this.options.handleSignals ?? true) {
      this.signalHandler = () => void this.stop();
      process.once('SIGINT', this.signalHandler);
      process.once('SIGTERM', this.signalHandler);
    }
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      this.done.catch(reject);
    });
    socket.on('connect', () => {
      this.assembler = this.newAssembler();
      this.emit({ type: 'connected' });
      void this.session.connected();
    });
    socket.on('disconnect', (reason) => {
      this.emit({ type: 'disconnected', reason });
      this.stopHeartbeat();
      // socket.io retries on its own after a lost connection, but not after the server closed the
      // socket (a coordinator shutting down or restarting): come back after the initial backoff.
      if (reason === 'io server disconnect' && !this.stopped) {
        const base = reconnect.initialDelayMs ?? 500;
        const jitter = reconnect.jitter ?? 0.5;
        const timer = setTimeout(
          () => {
            if (!this.stopped) socket.connect();
          },
          base * (1 + jitter * (2 * Math.random() - 1)),
        );
        timer.unref();
      }
    });
    socket.on('connect_error', (error: Error & { data?: { code?: unknown; message?: string } }) => {
      const code = error.data?.code;
      if (isErrorCode(code) && code === 'UNAUTHORIZED') {
        this.fail(new FedlearnError('UNAUTHORIZED', error.data?.message ?? error.message));
        return;
      }
      this.emit({ type: 'connect_error', message: error.message });
    });
    socket.on(FRAME_EVENT, (frame: unknown) => {
      try {
        const message = this.assembler.accept(frame);
        if (message) void this.session.receive(message);
      } catch (error) {
        const e = error as FedlearnError;
        this.emit({
          type: 'task_failed',
          kind: 'receive',
          code: e.code ?? 'MALFORMED_MESSAGE',
          message: e.message,
        });
      }
    });
    return connected;
  }

  /** Disconnects and resolves `done`. Safe to call more than once. */
  async stop(): Promise<void> {
    this.cleanup();
    this.resolveDone();
  }

  private fail(error: FedlearnError): void {
    this.cleanup();
    this.rejectDone(error);
  }

  private cleanup(): void {
    this.stopped = true;
    this.stopHeartbeat();
    this.socket?.disconnect();
    if (this.signalHandler) {
      process.off('SIGINT', this.signalHandler);
      process.off('SIGTERM', this.signalHandler);
      this.signalHandler = undefined;
    }
  }

  private async send(message: ClientMessage): Promise<void> {
    const socket = this.socket;
    if (!socket?.connected) throw new FedlearnError('TRANSPORT_CLOSED', 'not connected to the coordinator');
    const fate = this.options.intercept ? this.options.intercept(message) : message;
    if (fate === 'drop') return;
    if (fate === 'disconnect') return this.dropConnection(socket);
    for (const frame of toFrames(fate, this.nextTransferId++, this.options.chunkBytes))
      socket.emit(FRAME_EVENT, frame);
  }

  /** Cuts the connection as a lost network would, and comes back after the initial backoff. */
  private dropConnection(socket: Socket): void {
    socket.disconnect();
    // Not unref'd: with the socket closed, this timer is what keeps the process alive until it is back.
    setTimeout(() => {
      if (!this.stopped) socket.connect();
    }, this.options.reconnect?.initialDelayMs ?? 500);
  }

  private onSessionEvent(event: SessionEvent): void {
    if (event.type === 'welcome') this.startHeartbeat(event.heartbeatIntervalMs);
    this.emit(event);
    if (event.type === 'server_error' && event.fatal && this.session.fatal) this.fail(this.session.fatal);
  }

  /** Heartbeats at the interval the coordinator asked for in its welcome. */
  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      this.send({ type: 'heartbeat', sentAt: Date.now() }).catch(() => undefined);
    }, intervalMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private newAssembler(): FrameAssembler {
    return new FrameAssembler({
      maxPayloadBytes: this.options.maxPayloadBytes ?? DEFAULT_MAX_PARAMS_BYTES,
      ...(this.options.chunkBytes ? { chunkBytes: this.options.chunkBytes } : {}),
    });
  }

  private emit(event: ClientEvent): void {
    this.options.onEvent?.(event);
  }
}
