/** Reconnection backoff: doubles from `initialDelayMs` up to `maxDelayMs`, ± `jitter` (0–1). */
export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
}

export const DEFAULT_RECONNECT = { initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.5 } as const;

/** The delay before reconnection attempt `attempt` (0 = first), jittered by `random` in [0, 1). */
export function backoffDelay(options: ReconnectOptions = {}, attempt = 0, random = Math.random()): number {
  const base = options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs;
  const max = options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs;
  const jitter = options.jitter ?? DEFAULT_RECONNECT.jitter;
  const delay = Math.min(max, base * 2 ** attempt);
  return delay * (1 + jitter * (2 * random - 1));
}

/** socket.io-client's reconnection options for `options` (it implements the same doubling). */
export function socketIoReconnection(options: ReconnectOptions = {}) {
  return {
    reconnection: true,
    reconnectionDelay: options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs,
    reconnectionDelayMax: options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs,
    randomizationFactor: options.jitter ?? DEFAULT_RECONNECT.jitter,
  };
}
