import {
  cryptoRandomBytes,
  type LayersModelLike,
  LayersTrainer,
  type OptimizerLike,
  type ReconnectOptions,
  type SecAggClientSettings,
  SessionConnection,
  socketIoReconnection,
  type TfApi,
  type Trainer,
} from '@fedlearn/core';
import { io } from 'socket.io-client';
import { type BrowserData, loadBrowserData } from './data.js';
import { followPageLifecycle, type PageLifecycleTarget } from './page-lifecycle.js';
import { type BrowserClientEvent, type ClientState, ProgressTracker } from './progress.js';

/** A tfjs layers model and the page's data; the client builds core's shared trainer from them. */
export interface BrowserTraining {
  /** The page's tfjs (`@tensorflow/tfjs-core` with `@tensorflow/tfjs-layers` loaded). */
  tf: TfApi;
  model: LayersModelLike;
  data: BrowserData;
  evaluation?: BrowserData;
  loss?: string;
  optimizer?: (learningRate: number) => OptimizerLike;
}

export interface BrowserClientOptions {
  /** Coordinator URL; the page's own origin when the coordinator serves the page. */
  serverUrl: string;
  /** The coordinator's client token. */
  token: string;
  clientId: string;
  /** What to train: a model and data, or any `Trainer`. */
  training: BrowserTraining | { trainer: Trainer };
  reconnect?: ReconnectOptions;
  /** Take part in secure-aggregation rounds (default true). */
  secureAggregation?: boolean;
  /** Secure-aggregation policy (require it, minimum n, k, t) and identity key: see `SecAggClientSettings`. */
  secagg?: SecAggClientSettings;
  /** The credential issued when this client was enrolled; proves `clientId`. */
  credential?: string;
  onEvent?: (event: BrowserClientEvent) => void;
  /** Leave when the tab is hidden or closed, rejoin when it is back (default: the page's own). */
  page?:
    | {
        document: PageLifecycleTarget;
        window: Pick<PageLifecycleTarget, 'addEventListener' | 'removeEventListener'>;
      }
    | false;
}

/**
 * A federated-learning client in a web page: core's session engine and secure-aggregation client
 * over socket.io, training with the page's tfjs on data that never leaves the page.
 *
 * @example
 * const client = new BrowserClient({
 *   serverUrl: location.origin, token, clientId: 'browser-1',
 *   training: { tf, model, data: { arrays: { x, y, featureShape: [784], targetShape: [10] } } },
 *   onEvent: (e) => e.type === 'state' && render(e.state),
 * });
 * await client.start();
 */
export class BrowserClient {
  private connection: SessionConnection | undefined;
  private unfollowPage: (() => void) | undefined;
  private readonly progress: ProgressTracker;

  constructor(private readonly options: BrowserClientOptions) {
    this.progress = new ProgressTracker((event) => options.onEvent?.(event));
  }

  get state(): ClientState {
    return this.progress.state;
  }

  /** Loads the data, connects, and resolves once the coordinator has accepted the socket. */
  async start(): Promise<void> {
    const { options } = this;
    this.progress.set('connecting');
    const trainer = await this.trainer();
    const socket = io(options.serverUrl, {
      auth: { token: options.token },
      transports: ['websocket'],
      ...socketIoReconnection(options.reconnect),
    });
    const connection = new SessionConnection(socket, {
      clientId: options.clientId,
      trainer,
      runtime: `browser ${globalThis.navigator?.userAgent ?? ''}`.slice(0, 128),
      randomBytes: cryptoRandomBytes, // crypto.getRandomValues
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      ...(options.secureAggregation === undefined ? {} : { secureAggregation: options.secureAggregation }),
      ...(options.secagg ? { secagg: options.secagg } : {}),
      ...(options.credential ? { credential: options.credential } : {}),
      onEvent: (event) => {
        this.progress.observe(event);
        options.onEvent?.(event);
      },
    });
    this.connection = connection;
    const page = options.page ?? (typeof document === 'undefined' ? false : { document, window });
    if (page) {
      this.unfollowPage = followPageLifecycle(
        page,
        () => this.pause(),
        () => this.resume(),
      );
    }
    await connection.whenConnected();
  }

  /** Leaves cleanly (the coordinator counts this client as dropped out at once). */
  pause(): void {
    if (!this.connection || this.connection.isStopped) return;
    this.progress.set('paused');
    this.connection.suspend();
  }

  /** Rejoins after `pause()`: a fresh hello, then the next round that samples this client. */
  resume(): void {
    if (!this.connection || this.connection.isStopped || this.progress.state !== 'paused') return;
    this.progress.set('connecting');
    this.connection.resume();
  }

  stop(): void {
    this.unfollowPage?.();
    this.progress.set('stopped');
    this.connection?.stop();
  }

  /** Settles when the client stops: resolves on stop(), rejects on a fatal error (e.g. UNAUTHORIZED). */
  get done(): Promise<void> {
    return this.connection?.done ?? Promise.resolve();
  }

  private async trainer(): Promise<Trainer> {
    const { training } = this.options;
    if ('trainer' in training) return training.trainer;
    const { tf, model, data, evaluation, loss, optimizer } = training;
    return new LayersTrainer({
      tf,
      model,
      train: await loadBrowserData(tf, data),
      ...(evaluation ? { evaluation: await loadBrowserData(tf, evaluation) } : {}),
      ...(loss ? { loss } : {}),
      ...(optimizer ? { optimizer } : {}),
      onEpoch: (progress) => this.progress.epoch(progress),
    });
  }
}
