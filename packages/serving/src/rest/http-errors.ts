import { httpStatusOf, isFedlearnError } from '@fedlearn/core';

/** What an HTTP client sees for an error: a status, a message safe to show, and a code to switch on. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  field?: string;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
}

/**
 * Maps anything a route threw to its HTTP form. Fastify's own errors (schema, body size, content
 * type) keep their 4xx status; unexpected errors become a 500 that does not leak their message.
 */
export function toHttpError(error: unknown): HttpError {
  if (isFedlearnError(error)) {
    const field = typeof error.details['field'] === 'string' ? error.details['field'] : undefined;
    return {
      status: httpStatusOf(error.code),
      code: error.code,
      message: error.code === 'INTERNAL' ? 'internal error' : error.message,
      ...(field ? { field } : {}),
    };
  }
  const e = error as FastifyLikeError;
  if (e.validation && e.validation.length > 0) {
    const first = e.validation[0]!;
    const missing = first.params?.['missingProperty'];
    const path = `body${(first.instancePath ?? '').replaceAll('/', '.')}${missing ? `.${String(missing)}` : ''}`;
    return {
      status: 400,
      code: 'MALFORMED_MESSAGE',
      message: `${path}: ${first.message ?? 'invalid'}`,
      field: path,
    };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'request body is larger than the server accepts',
    };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      code: e.statusCode === 429 ? 'RATE_LIMITED' : 'MALFORMED_MESSAGE',
      message: e.message,
    };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}
