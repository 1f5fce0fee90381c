/**
 * Every error fedlearn raises on purpose is a `FedlearnError` with a stable `code`.
 * Callers switch on `code`; the message is for people and may change.
 *
 * @example
 * try { decodeParams(bytes) } catch (e) { if (isFedlearnError(e, 'PARAMS_HASH_MISMATCH')) retry() }
 */
export const ERROR_CODES = [
  // configuration and generic input
  'INVALID_CONFIG',
  'INVALID_ARGUMENT',
  // parameters and the wire codec
  'PARAMS_BAD_MAGIC',
  'PARAMS_UNSUPPORTED_VERSION',
  'PARAMS_UNSUPPORTED_DTYPE',
  'PARAMS_TRUNCATED',
  'PARAMS_TOO_LARGE',
  'PARAMS_SHAPE_MISMATCH',
  'PARAMS_HASH_MISMATCH',
  'PARAMS_NOT_FINITE',
  // protocol
  'PROTOCOL_VERSION_MISMATCH',
  'MALFORMED_MESSAGE',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'UNKNOWN_CLIENT',
  'DUPLICATE_CLIENT',
  'STALE_ROUND',
  'NOT_SAMPLED',
  'DUPLICATE_UPDATE',
  'ROUND_ABORTED',
  'DEADLINE_EXCEEDED',
  'QUORUM_NOT_REACHED',
  'JOB_NOT_FOUND',
  'JOB_CONFLICT',
  'TRANSPORT_CLOSED',
  'TRAINING_FAILED',
  // aggregation
  'AGGREGATION_EMPTY',
  'STRATEGY_INCOMPATIBLE',
  // secure aggregation
  'SECAGG_CONFIG_OVERFLOW',
  'SECAGG_WEIGHT_TOO_LARGE',
  'SECAGG_BAD_KEY',
  'SECAGG_BAD_SHARE',
  'SECAGG_INCONSISTENT_SHARES',
  'SECAGG_DECRYPTION_FAILED',
  'SECAGG_BAD_VECTOR',
  'SECAGG_WRONG_STAGE',
  'SECAGG_BELOW_THRESHOLD',
  // model lifecycle
  'ARTIFACT_NOT_FOUND',
  'ARTIFACT_CHECKSUM_MISMATCH',
  'ARTIFACT_STORE_UNAVAILABLE',
  'REGISTRY_NOT_FOUND',
  'REGISTRY_CONFLICT',
  'REGISTRY_UNAVAILABLE',
  'REGISTRY_BAD_RESPONSE',
  'MODEL_FORMAT_INVALID',
  // issue 8: secure aggregation against active adversaries
  'SECAGG_INPUT_OUT_OF_RANGE',
  'SECAGG_GRAPH_DISCONNECTED',
  'SECAGG_POLICY_REFUSED',
  'SECAGG_BAD_SIGNATURE',
  'SECAGG_INCONSISTENT_VIEW',
  // anything we did not anticipate, wrapped so callers still get a code
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Wraps anything thrown into a FedlearnError, keeping the original as `cause`. */
export function toFedlearnError(value: unknown, fallback: ErrorCode = 'INTERNAL'): FedlearnError {
  if (value instanceof FedlearnError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new FedlearnError(fallback, message, { cause: value });
}
