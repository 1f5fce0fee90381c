import {
  type ClientMessage,
  type Clock,
  type ConnectionEvent,
  type ReconnectOptions,
  type SecAggClientSettings,
  SessionConnection,
  socketIoReconnection,
  type Trainer,
} from '@fedlearn/core';
import { nativeKeystream } from '@fedlearn/core/node';
import { io } from 'socket.io-client';
import { untrustedCertificateError } from './tls-trust.js';

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
  reconnect?: ReconnectOptions;
  /** Times the reconnection after the coordinator closed the socket (injected in tests). */
  clock?: Clock;
  /** Uniform in [0, 1), for the backoff's jitter (injected in tests). */
  random?: () => number;
  maxPayloadBytes?: number;
  /** Largest chunk offered to the coordinator (it may choose smaller). */
  chunkBytes?: number;
  /** Chunks sent ahead of the coordinator's acknowledgement (default 8). */
  transferWindow?: number;
  onEvent?: (event: ClientEvent) => void;
  /** Stop cleanly on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Take part in secure-aggregation rounds (default true). */
  secureAggregation?: boolean;
  /**
   * Secure-aggregation policy and identity key (malicious-server mode): see `SecAggClientSettings`.
   * Masks are expanded with Node's native ChaCha20 unless `secagg.keystream` says otherwise.
   */
  secagg?: SecAggClientSettings;
  /** The credential issued when this client was enrolled (`fedlearn enroll`); proves `clientId`. */
  credential?: string;
  /**
   * Fault injection for demos and tests: sees each outgoing message and sends it (as returned),
   * drops it (the client goes silent), or disconnects instead (it comes back after its backoff).
   */
  intercept?: (message: ClientMessage) => ClientMessage | 'drop' | 'disconnect';
}

export type ClientEvent = ConnectionEvent;

/**
 * A federated-learning client for Node: connects to a coordinator, trains when asked, and
 * reconnects with exponential backoff and jitter until stopped. The protocol itself is core's
 * `SessionConnection`, shared with the browser client.
 *
 * @example
 * const client = new FederatedClient({ serverUrl, token, clientId: 'node-1', trainer });
 * await client.start();
 * await client.done; // until stop(), a signal, or a fatal error
 */
export class FederatedClient {
  private connection: SessionConnection | undefined;
  private signalHandler: (() => void) | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  /** Settles when the client stops: resolves on stop() or a signal, rejects on a fatal error. */
  readonly done: Promise<void>;

  constructor(private readonly options: FederatedClientOptions) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  /** Connects; resolves once the coordinator has accepted the socket (or rejects on a fatal refusal). */
  start(): Promise<void> {
    const { options } = this;
    const socket = io(options.serverUrl, {
      auth: { token: options.token },
      transports: ['websocket'],
      ...socketIoReconnection(options.reconnect),
      ...(options.ca ? { ca: options.ca } : {}),
    });
    const connection = new SessionConnection(socket, {
      clientId: options.clientId,
      trainer: options.trainer,
      runtime: `node ${process.versions.node}`,
      ...pick(options, [
        'reconnect',
        'clock',
        'random',
        'maxPayloadBytes',
        'chunkBytes',
        'transferWindow',
        'secureAggregation',
        'credential',
        'intercept',
      ]),
      secagg: { keystream: nativeKeystream(), ...options.secagg },
      // An untrusted certificate stays untrusted: say how to fix it and stop, rather than retry.
      classifyConnectError: (error) => untrustedCertificateError(error, options.serverUrl),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    this.connection = connection;
    connection.done.then(
      () => this.finish(),
      (error: Error) => this.finish(error),
    );
    if (options.handleSignals ?? true) {
      this.signalHandler = () => void this.stop();
      process.once('SIGINT', this.signalHandler);
      process.once('SIGTERM', this.signalHandler);
    }
    return connection.whenConnected();
  }

  /** Disconnects and resolves `done`. Safe to call more than once. */
  async stop(): Promise<void> {
    this.connection?.stop();
    this.finish();
  }

  private finish(error?: Error): void {
    if (this.signalHandler) {
      process.off('SIGINT', this.signalHandler);
      process.off('SIGTERM', this.signalHandler);
      this.signalHandler = undefined;
    }
    if (error) this.rejectDone(error);
    else this.resolveDone();
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
