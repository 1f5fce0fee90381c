import { ERROR_TABLE, type GrpcStatusName } from './error-table.js';

export { ERROR_TABLE, type ErrorCodeEntry, type GrpcStatusName } from './error-table.js';

/**
 * Every error fedlearn raises on purpose is a `FedlearnError` with a stable `code`.
 * Callers switch on `code`; the message is for people and may change.
 *
 * @example
 * try { decodeParams(bytes) } catch (e) { if (isFedlearnError(e, 'PARAMS_HASH_MISMATCH')) retry() }
 */
export type ErrorCode = keyof typeof ERROR_TABLE;

/** Every error code, in the table's order (see `ERROR_TABLE` for each one's meaning and statuses). */
export const ERROR_CODES: readonly ErrorCode[] = Object.freeze(Object.keys(ERROR_TABLE) as ErrorCode[]);

/** The HTTP status an API answers with `code`. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_TABLE[code].http;
}

/** The canonical gRPC status name an API answers with `code`. */
export function grpcStatusOf(code: ErrorCode): GrpcStatusName {
  return ERROR_TABLE[code].grpc;
}

export interface FedlearnErrorOptions {
  /** Structured context safe to log and to send to a peer (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class FedlearnError extends Error {
  override readonly name = 'FedlearnError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: FedlearnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The form sent over the wire to a peer. */
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isFedlearnError(value: unknown, code?: ErrorCode): value is FedlearnError {
  return value instanceof FedlearnError && (code === undefined || value.code === code);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

/** Wraps anything thrown into a FedlearnError, keeping the original as `cause`. */
export function toFedlearnError(value: unknown, fallback: ErrorCode = 'INTERNAL'): FedlearnError {
  if (value instanceof FedlearnError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new FedlearnError(fallback, message, { cause: value });
}
