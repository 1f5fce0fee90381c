import type { Clock } from '@fedlearn/core';

export interface TokenBucketOptions {
  /** Attempts allowed at once from one key. */
  burst: number;
  /** Attempts regained per second. */
  perSecond: number;
  /** Most keys remembered; past it the stalest is forgotten, so a spoofed flood cannot grow memory. */
  maxKeys?: number;
  clock: Clock;
}

/** A token bucket per key (a peer address): `take` says whether one more attempt is allowed now. */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly options: TokenBucketOptions) {}

  take(key: string): boolean {
    const { burst, perSecond, clock } = this.options;
    const now = clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    // Re-inserted so the map's order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > (this.options.maxKeys ?? 100_000)) {
      const stalest = this.buckets.keys().next().value;
      if (stalest !== undefined) this.buckets.delete(stalest);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
