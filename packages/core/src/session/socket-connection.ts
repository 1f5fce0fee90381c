import type { Clock } from '../clock.js';
import { FedlearnError, isErrorCode } from '../errors.js';
import { DEFAULT_MAX_PARAMS_BYTES } from '../params/codec.js';
import { FrameSender, startFlowControl, type TransferSettings } from '../protocol/frame-sender.js';
import { DEFAULT_CHUNK_BYTES, FRAME_EVENT, FrameAssembler, isAckFrame } from '../protocol/framing.js';
import { type ClientMessage, transferSettingsSchema } from '../protocol/messages.js';
import type { RandomBytes } from '../random.js';
import { backoffDelay, type ReconnectOptions } from './backoff.js';
import { ClientSession } from './client-session.js';
import type { SecAggClientSettings } from './secagg-participant.js';
import type { SessionEvent, Trainer } from './types.js';

/**
 * The part of a socket.io client socket the connection uses. Core never imports socket.io: the
 * Node and browser clients create the socket (with their own TLS or page options) and hand it in.
 */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type ConnectionEvent =
  | SessionEvent
  | { type: 'connected' }
  /** A message went out (progress displays: uploading, each secure-aggregation stage). */
  | { type: 'message_sent'; message: ClientMessage }
  /** A whole message came in, before the session handles it (not yet validated). */
  | { type: 'message_received'; message: unknown }
  | { type: 'disconnected'; reason: string }
  | { type: 'connect_error'; message: string };

export interface SessionConnectionOptions {
  clientId: string;
  trainer: Trainer;
  runtime: string;
  reconnect?: ReconnectOptions;
  maxPayloadBytes?: number;
  /** Largest chunk offered in the hello; the coordinator may choose a smaller one. */
  chunkBytes?: number;
  /** Chunks sent ahead of the coordinator's acknowledgement (default 8). */
  transferWindow?: number;
  secureAggregation?: boolean;
  /** Secure-aggregation policy and identity key (malicious-server mode): see `SecAggClientSettings`. */
  secagg?: SecAggClientSettings;
  /** The credential issued at enrollment (a coordinator that requires enrollment checks it). */
  credential?: string;
  randomBytes?: RandomBytes;
  /** Times the reconnection after the coordinator closed the socket (injected in tests). */
  clock?: Clock;
  /** Uniform in [0, 1), for the backoff's jitter (injected in tests). */
  random?: () => number;
  /**
   * Recognises a connection error that retrying cannot fix (e.g. an untrusted TLS certificate in
   * Node): the connection then ends with that error instead of retrying.
   */
  classifyConnectError?: (error: Error) => FedlearnError | undefined;
  onEvent?: (event: ConnectionEvent) => void;
  /**
   * Fault injection for demos and tests: sees each outgoing message and sends it (as returned),
   * drops it (the client goes silent), or disconnects instead (it comes back after its backoff).
   */
  intercept?: (message: ClientMessage) => ClientMessage | 'drop' | 'disconnect';
}

/**
 * One client's link to the coordinator over a socket.io socket, for every runtime: frames messages
 * in and out, heartbeats at the interval the welcome asks for, reconnects after a server-side
 * close, and ends on a fatal refusal. The Node and browser clients only create the socket.
 */
export class SessionConnection {
  readonly session: ClientSession;
  /** Settles when the connection ends: resolves on stop(), rejects on a fatal error. */
  readonly done: Promise<void>;
  private assembler: FrameAssembler;
  private readonly sender: FrameSender;
  private readonly transferOffer: TransferSettings;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private stopped = false;

  constructor(
    private readonly socket: SocketLike,
    private readonly options: SessionConnectionOptions,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
    this.assembler = this.newAssembler();
    this.transferOffer = transferOffer(options);
    this.sender = new FrameSender((frame) => socket.emit(FRAME_EVENT, frame), this.unnegotiated());
    this.session = new ClientSession({
      clientId: options.clientId,
      trainer: options.trainer,
      transport: { send: (message) => this.send(message) },
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PARAMS_BYTES,
      runtime: options.runtime,
      ...(options.secureAggregation === undefined ? {} : { secureAggregation: options.secureAggregation }),
      ...(options.secagg ? { secagg: options.secagg } : {}),
      ...(options.credential ? { credential: options.credential } : {}),
      ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
      transfer: this.transferOffer,
      onEvent: (event) => this.onSessionEvent(event),
    });
    this.attach();
  }

  /** Resolves once the coordinator has accepted the socket; rejects on a fatal refusal. */
  whenConnected(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.socket.connected) resolve();
      this.socket.on('connect', () => resolve());
      this.done.catch(reject);
    });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Leaves cleanly without stopping (a hidden or frozen page): the coordinator counts this client as
   * dropped at once instead of waiting for a deadline. `resume()` rejoins with a fresh hello.
   */
  suspend(): void {
    this.stopHeartbeat();
    if (this.socket.connected) this.socket.disconnect();
  }

  resume(): void {
    if (!this.stopped && !this.socket.connected) this.socket.connect();
  }

  /** Disconnects for good and resolves `done`. Safe to call more than once. */
  stop(): void {
    this.close();
    this.resolveDone();
  }

  private fail(error: FedlearnError): void {
    this.close();
    this.rejectDone(error);
  }

  private close(): void {
    this.stopped = true;
    this.stopHeartbeat();
    this.socket.disconnect();
  }

  private attach(): void {
    const { socket } = this;
    socket.on('connect', () => {
      this.assembler = this.newAssembler();
      this.sender.reopen(this.unnegotiated());
      this.emit({ type: 'connected' });
      void this.session.connected();
    });
    socket.on('disconnect', (reason: string) => {
      this.emit({ type: 'disconnected', reason });
      this.stopHeartbeat();
      this.sender.close(
        new FedlearnError('TRANSPORT_CLOSED', `disconnected from the coordinator: ${reason}`),
      );
      // socket.io retries on its own after a lost connection, but not after the server closed the
      // socket (a coordinator shutting down or restarting): come back after the initial backoff.
      if (reason === 'io server disconnect') {
        const random = this.options.random ?? Math.random;
        this.reconnectLater(backoffDelay(this.options.reconnect, 0, random()));
      }
    });
    socket.on('connect_error', (error: Error & { data?: { code?: unknown; message?: string } }) => {
      const code = error.data?.code;
      // Retrying cannot fix a refused token. A rate-limited handshake (RATE_LIMITED) is retried
      // with socket.io's backoff, like any other failed attempt.
      if (isErrorCode(code) && code === 'UNAUTHORIZED') {
        this.fail(new FedlearnError('UNAUTHORIZED', error.data?.message ?? error.message));
        return;
      }
      const fatal = this.options.classifyConnectError?.(error);
      if (fatal) return this.fail(fatal);
      this.emit({ type: 'connect_error', message: error.message });
    });
    socket.on(FRAME_EVENT, (frame: unknown) => {
      if (isAckFrame(frame)) return this.sender.acknowledge(frame);
      try {
        const message = this.assembler.accept(frame);
        if (message) {
          this.emit({ type: 'message_received', message });
          void this.session.receive(message);
        }
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
  }

  private async send(message: ClientMessage): Promise<void> {
    if (!this.socket.connected) {
      throw new FedlearnError('TRANSPORT_CLOSED', 'not connected to the coordinator');
    }
    const fate = this.options.intercept ? this.options.intercept(message) : message;
    if (fate === 'drop') return;
    if (fate === 'disconnect') {
      // Cuts the connection as a lost network would, and comes back after the initial backoff.
      this.socket.disconnect();
      this.reconnectLater(this.options.reconnect?.initialDelayMs ?? 500, true);
      return;
    }
    await this.sender.send(fate);
    if (fate.type !== 'heartbeat') this.emit({ type: 'message_sent', message: fate });
  }

  /** `keepAlive`: with the socket closed, this timer may be what keeps a Node process running. */
  private reconnectLater(delayMs: number, keepAlive = false): void {
    if (this.stopped) return;
    const reconnect = () => {
      if (!this.stopped) this.socket.connect();
    };
    if (this.options.clock) {
      this.options.clock.setTimeout(reconnect, delayMs);
      return;
    }
    const timer = setTimeout(reconnect, delayMs);
    if (!keepAlive) unref(timer);
  }

  private onSessionEvent(event: SessionEvent): void {
    if (event.type === 'welcome') {
      this.startHeartbeat(event.heartbeatIntervalMs);
      if (event.transfer) this.useTransfer(event.transfer);
    }
    this.emit(event);
    if (event.type === 'server_error' && event.fatal && this.session.fatal) this.fail(this.session.fatal);
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      this.send({ type: 'heartbeat', sentAt: Date.now() }).catch(() => undefined);
    }, intervalMs);
    unref(this.heartbeat);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Until the welcome says otherwise the coordinator may be older: no acks, the offered chunk size. */
  private unnegotiated(): TransferSettings {
    return { chunkBytes: this.transferOffer.chunkBytes, window: 0 };
  }

  private useTransfer(settings: TransferSettings): void {
    const { sender, assembler } = this;
    const emit = (frame: unknown) => this.socket.emit(FRAME_EVENT, frame);
    startFlowControl({ sender, assembler, emit }, settings, this.transferOffer);
  }

  private newAssembler(): FrameAssembler {
    return new FrameAssembler({
      maxPayloadBytes: this.options.maxPayloadBytes ?? DEFAULT_MAX_PARAMS_BYTES,
      ...(this.options.chunkBytes ? { chunkBytes: this.options.chunkBytes } : {}),
    });
  }

  private emit(event: ConnectionEvent): void {
    this.options.onEvent?.(event);
  }
}

/** The hello's offer, checked here: the coordinator would refuse a hello carrying bad settings. */
function transferOffer(options: SessionConnectionOptions): TransferSettings {
  const offer = transferSettingsSchema.safeParse({
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    window: options.transferWindow ?? 8,
  });
  if (!offer.success) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'chunkBytes must be an integer from 1024 to 16 MiB and transferWindow from 1 to 64',
    );
  }
  return offer.data;
}

/** Node timers keep a process alive unless unref'd; browser timers are numbers and need nothing. */
function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
