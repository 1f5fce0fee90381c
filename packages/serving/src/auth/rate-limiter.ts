import { FedlearnError } from '@fedlearn/core';

export interface RateLimitOptions {
  /** Requests one caller may make per window; 0 turns the limit off. */
  max: number;
  windowMs: number;
  /**
   * Callers tracked at once. Beyond it the oldest window is dropped, so a flood of made-up caller
   * keys (addresses, tokens) cannot grow memory without bound. Default 10,000.
   */
  maxKeys?: number;
  /** Injected clock (ms). */
  now?: () => number;
}

interface Window {
  startedAt: number;
  count: number;
}

/**
 * A per-caller fixed-window request counter, the same rule `@fastify/rate-limit` applies to REST,
 * for the protocols that have no such plugin (gRPC, Redis Streams).
 *
 * @example
 * const limiter = new RateLimiter({ max: 100, windowMs: 60_000 });
 * limiter.take(principal.id); // throws RATE_LIMITED on the 101st call in a minute
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.max > 0;
  }

  /** Counts one request of `key`; throws RATE_LIMITED (with the wait in ms) when over the limit. */
  take(key: string): void {
    if (!this.enabled) return;
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.options.windowMs) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.dropOldest();
      window = { startedAt: now, count: 0 };
      // Insertion order is window-start order: the first key is the oldest window.
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count > this.options.max) {
      const retryAfterMs = window.startedAt + this.options.windowMs - now;
      throw new FedlearnError(
        'RATE_LIMITED',
        `rate limit: ${this.options.max} requests per ${this.options.windowMs} ms; retry in ${retryAfterMs} ms`,
        { details: { max: this.options.max, windowMs: this.options.windowMs, retryAfterMs } },
      );
    }
  }

  /** Callers tracked now (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  private dropOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}
