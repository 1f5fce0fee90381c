import { FedlearnError } from '@fedlearn/core';
import { Pool } from 'undici';
import { type Method, mlflowError, RETRYABLE_STATUSES } from './errors.js';

/** How the client reaches MLflow and how hard it retries. No secret is ever logged or put in an error. */
export interface MlflowHttpOptions {
  /** e.g. `http://localhost:5001` (a path prefix is kept; `user:password@` is basic auth). */
  trackingUri: string;
  /** Bearer token (`MLFLOW_TRACKING_TOKEN`) or basic auth (`MLFLOW_TRACKING_USERNAME`/`PASSWORD`). */
  token?: string;
  username?: string;
  password?: string;
  /** Retries after the first attempt on 429, 5xx and connection errors. */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Waits between retries; injected so tests do not sleep. */
  delay?: (ms: number) => Promise<void>;
  connections?: number;
  /**
   * Longest wait for an answer's headers once the request is sent, and for each chunk of its
   * body (default 60 s; undici's own is 300 s). A timeout counts as a lost connection: retried.
   */
  timeoutMs?: number;
}

type Response = Awaited<ReturnType<Pool['request']>>;

/** Per-call options of `MlflowHttp.call`. */
export interface CallOptions<T> {
  /**
   * For a call that is not idempotent (e.g. `model-versions/create`): asked before each retry
   * after an answer that does not prove the request was refused (5xx, a lost connection);
   * returns what the earlier attempt created, if it did, and the call returns that instead.
   */
  recover?: () => Promise<T | undefined>;
}

const defaultDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * MLflow's REST API over pooled keep-alive connections (undici). Maps MLflow's
 * `{"error_code", "message"}` bodies to typed errors naming the call, retries 429/5xx with
 * exponential backoff, and refuses non-JSON answers (an HTML page means "not an MLflow API").
 */
export class MlflowHttp {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly auth: string | undefined;
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly delay: (ms: number) => Promise<void>;
  readonly origin: string;

  constructor(options: MlflowHttpOptions) {
    let url: URL;
    try {
      url = new URL(options.trackingUri);
    } catch {
      // Neither the value nor the TypeError (whose `input` is the value) goes into the error:
      // a tracking URI may carry credentials.
      throw new FedlearnError('INVALID_CONFIG', 'MLFLOW_TRACKING_URI is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FedlearnError('INVALID_CONFIG', `MLFLOW_TRACKING_URI must be http(s), got ${url.protocol}`);
    }
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const timeout = options.timeoutMs ?? 60_000;
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 8,
      keepAliveTimeout: 30_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    // Like MLflow's Python client (requests), credentials in the URI are basic auth.
    const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = options.password ?? (url.username ? decodeURIComponent(url.password) : undefined);
    this.auth = options.token
      ? `Bearer ${options.token}`
      : username !== undefined && password !== undefined
        ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
        : undefined;
    this.maxRetries = options.maxRetries ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 8_000;
    this.delay = options.delay ?? defaultDelay;
  }

  /**
   * Calls `/api/2.0/mlflow/<endpoint>`; GET sends `payload` as the query, POST/DELETE as a JSON
   * body (MLflow reads DELETE parameters from the body, not the query).
   *
   * @example await http.call('GET', 'registered-models/get', { name: 'mnist' })
   */
  async call<T>(
    method: Exclude<Method, 'PUT'>,
    endpoint: string,
    payload: Record<string, unknown> = {},
    options: CallOptions<T> = {},
  ): Promise<T> {
    const path = `/api/2.0/mlflow/${endpoint}`;
    if (method === 'GET') {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(payload)) if (v !== undefined) query.set(k, String(v));
      const qs = query.toString();
      return this.json<T>(method, qs ? `${path}?${qs}` : path, undefined, endpoint, options.recover);
    }
    return this.json<T>(method, path, JSON.stringify(payload), endpoint, options.recover);
  }

  /** Uploads raw bytes to the tracking server's artifact proxy. */
  async putArtifact(relativePath: string, body: Uint8Array): Promise<void> {
    await this.json(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${encodePath(relativePath)}`,
      body,
      'mlflow-artifacts/artifacts',
    );
  }

  /** Downloads a proxied artifact's bytes. */
  async getArtifact(relativePath: string): Promise<Uint8Array> {
    const sent = await this.send(
      'GET',
      `/api/2.0/mlflow-artifacts/artifacts/${encodePath(relativePath)}`,
      undefined,
      'mlflow-artifacts/artifacts',
    );
    return new Uint8Array(await sent.res!.body.arrayBuffer());
  }

  /** Lists a proxied artifact directory (`{ files: [{ path, is_dir, file_size }] }`, basenames). */
  async listArtifacts(
    relativeDir: string,
  ): Promise<{ path: string; is_dir?: boolean; file_size?: number }[]> {
    const qs = new URLSearchParams({ path: relativeDir }).toString();
    const res = await this.json<{ files?: { path: string; is_dir?: boolean; file_size?: number }[] }>(
      'GET',
      `/api/2.0/mlflow-artifacts/artifacts?${qs}`,
      undefined,
      'mlflow-artifacts/artifacts',
    );
    return res.files ?? [];
  }

  private async json<T>(
    method: Method,
    path: string,
    body: string | Uint8Array | undefined,
    call: string,
    recover?: () => Promise<T | undefined>,
  ): Promise<T> {
    const sent = await this.send(method, path, body, call, recover);
    if (sent.res === undefined) return sent.recovered as T;
    const res = sent.res;
    const type = String(res.headers['content-type'] ?? '');
    const text = await res.body.text();
    if (!type.includes('json')) {
      throw new FedlearnError(
        'REGISTRY_BAD_RESPONSE',
        `MLflow ${method} ${call}: answered ${type || 'no content type'}, not JSON`,
        {
          details: { call, method, status: res.statusCode },
        },
      );
    }
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch (cause) {
      throw new FedlearnError('REGISTRY_BAD_RESPONSE', `MLflow ${method} ${call}: malformed JSON`, {
        cause,
        details: { call, method },
      });
    }
  }

  /** One request with retries; `recovered` when `recover` found the effect of an earlier attempt. */
  private async send(
    method: Method,
    path: string,
    body: string | Uint8Array | undefined,
    call: string,
    recover?: () => Promise<unknown>,
  ): Promise<{ res: Response; recovered?: undefined } | { res?: undefined; recovered: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'fedlearn-registry' };
    if (body !== undefined)
      headers['content-type'] = typeof body === 'string' ? 'application/json' : 'application/octet-stream';
    if (this.auth) headers['authorization'] = this.auth;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.pool.request({
          method,
          path: this.basePath + path,
          headers,
          ...(body !== undefined ? { body } : {}),
        });
      } catch (cause) {
        if (attempt < this.maxRetries) {
          await this.delay(this.backoff(attempt));
          const recovered = await recover?.();
          if (recovered !== undefined) return { recovered };
          continue;
        }
        throw new FedlearnError(
          'REGISTRY_UNAVAILABLE',
          `MLflow ${method} ${call}: cannot reach ${this.origin}: ${String(cause)}`,
          {
            cause,
            details: { call, method, attempts: attempt + 1 },
          },
        );
      }
      if (res.statusCode < 400) return { res };
      const text = await res.body.text();
      if (RETRYABLE_STATUSES.has(res.statusCode) && attempt < this.maxRetries) {
        await this.delay(this.backoff(attempt, res.headers['retry-after']));
        // A 429 means the request was refused; any other failure may have taken effect.
        const recovered = res.statusCode === 429 ? undefined : await recover?.();
        if (recovered !== undefined) return { recovered };
        continue;
      }
      throw mlflowError(
        {
          method,
          call,
          status: res.statusCode,
          contentType: String(res.headers['content-type'] ?? ''),
          text,
          attempts: attempt + 1,
        },
        this.origin + this.basePath,
      );
    }
  }

  private backoff(attempt: number, retryAfter?: string | string[]): number {
    const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds * 1000, this.maxDelayMs);
    return Math.min(this.baseDelayMs * 2 ** attempt, this.maxDelayMs);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function encodePath(path: string): string {
  return path
    .split('/')
    .filter(Boolean)
    .map((s) => encodeURIComponent(s))
    .join('/');
}
