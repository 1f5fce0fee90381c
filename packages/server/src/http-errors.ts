import type { Socket } from 'node:net';
import { FedlearnError, httpStatusOf } from '@fedlearn/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The one error body every answer of the control API uses: `{ error: { code, message, details } }`. */
export function errorBody(error: FedlearnError): string {
  return JSON.stringify({ error: error.toJSON() });
}

export function sendError(reply: FastifyReply, error: FedlearnError): FastifyReply {
  return reply.code(httpStatusOf(error.code)).type('application/json').send(errorBody(error));
}

/** Fastify's own refusals (an error thrown by its parsers or validators) as typed errors. */
export function fromFastifyError(error: Error & { statusCode?: number }): FedlearnError | undefined {
  if (error instanceof FedlearnError) return error;
  switch (error.statusCode) {
    case 413:
      return new FedlearnError('PAYLOAD_TOO_LARGE', error.message);
    case 414:
      return new FedlearnError('URI_TOO_LONG', 'a path segment is too long');
    case 415:
      return new FedlearnError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    default:
      return error.statusCode && error.statusCode < 500
        ? new FedlearnError('MALFORMED_MESSAGE', error.message)
        : undefined;
  }
}

/** Fastify's `frameworkErrors` option: a bad URL or an over-long path parameter. */
export function frameworkErrors(
  error: Error & { code?: string },
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const typed =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new FedlearnError('URI_TOO_LONG', 'a path segment is too long')
      : new FedlearnError('MALFORMED_MESSAGE', 'the request URL is not valid');
  void sendError(reply, typed);
}

/**
 * Fastify's `clientErrorHandler` option: requests refused before they are parsed (headers too
 * large, a timeout, a broken request line), answered in the same error shape.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, typed] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, new FedlearnError('HEADERS_TOO_LARGE', 'the request headers (or URL) are too large')]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, new FedlearnError('TRANSFER_INCOMPLETE', 'the request was not received in time')]
        : [400, new FedlearnError('MALFORMED_MESSAGE', 'the request could not be parsed')];
  const body = errorBody(typed);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
