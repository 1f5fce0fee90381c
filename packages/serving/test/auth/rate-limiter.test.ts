import { isFedlearnError } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/auth/rate-limiter.js';

function refusal(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected RATE_LIMITED');
}

describe('RateLimiter (fixed window per caller, injected clock)', () => {
  it('lets max requests through per window, refuses the next with RATE_LIMITED and the wait', () => {
    let now = 1_000;
    const limiter = new RateLimiter({ max: 3, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i += 1) limiter.take('a');
    now += 4_000;
    const error = refusal(() => limiter.take('a'));
    expect(isFedlearnError(error) && error.code).toBe('RATE_LIMITED');
    expect((error as { details: { retryAfterMs: number } }).details.retryAfterMs).toBe(6_000);
    // Another caller has its own window.
    limiter.take('b');
    now += 6_000;
    limiter.take('a');
  });

  it('max 0 is off', () => {
    const limiter = new RateLimiter({ max: 0, windowMs: 1 });
    for (let i = 0; i < 1000; i += 1) limiter.take('a');
    expect(limiter.enabled).toBe(false);
    expect(limiter.size).toBe(0);
  });

  it('an attacker inventing caller keys cannot grow its memory past maxKeys', () => {
    const limiter = new RateLimiter({ max: 5, windowMs: 60_000, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 10_000; i += 1) limiter.take(`made-up-${i}`);
    expect(limiter.size).toBe(100);
    // A caller that keeps going is still counted in its window.
    for (let i = 0; i < 5; i += 1) limiter.take('steady');
    expect(isFedlearnError(refusal(() => limiter.take('steady')))).toBe(true);
  });
});
