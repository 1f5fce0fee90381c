import { createHash, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '@fedlearn/core';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';

/** Compares a presented token with the expected one in constant time (hashing first hides the length). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** socket.io middleware: a client must present the client token as `auth.token` in its handshake. */
export function clientTokenGuard(expected: string, logger: Logger) {
  return (socket: Socket, next: (error?: Error) => void): void => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (tokenMatches(expected, token)) return next();
    logger.warn({ address: socket.handshake.address }, 'client refused: bad or missing token');
    next(handshakeRefusal('UNAUTHORIZED', 'bad or missing client token; pass the coordinator client token'));
  };
}

/** socket.io middleware: refuses a handshake once its address has used up its attempts. */
export function connectionRateLimit(limiter: { take(key: string): boolean }, logger: Logger) {
  return (socket: Socket, next: (error?: Error) => void): void => {
    if (limiter.take(socket.handshake.address)) return next();
    logger.warn({ address: socket.handshake.address }, 'client refused: too many connection attempts');
    const error = new Error('rate limited: too many connection attempts') as Error & { data: unknown };
    error.data = {
      code: 'RATE_LIMITED',
      message: 'too many connection attempts from this address; retry later',
    };
    next(error);
  };
}

/** A handshake refusal as socket.io delivers it: the client's `connect_error` carries `data`. */
function handshakeRefusal(code: ErrorCode, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { data: { code, message } });
}
