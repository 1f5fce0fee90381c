import { FedlearnError } from '@fedlearn/core';
import type { FastifyRequest } from 'fastify';
import { tokenMatches } from '../tokens.js';

/** `admin` may change state (jobs, enrollments); `read` may only look (GET and HEAD). */
export type ApiScope = 'admin' | 'read';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bearer tokens of the control API and what each may do. They are distinct from client
 * credentials: a client's credential opens no API route, and an API token says no hello.
 */
export class ApiAccess {
  constructor(private readonly tokens: readonly { token: string; scope: ApiScope }[]) {}

  /** The scope of the request's bearer token, if it presents a known one. */
  scopeOf(request: FastifyRequest): ApiScope | undefined {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return undefined;
    const given = header.slice(7);
    // Every token is compared, so the time taken does not say which one matched.
    let scope: ApiScope | undefined;
    for (const entry of this.tokens) if (tokenMatches(entry.token, given)) scope ??= entry.scope;
    return scope;
  }

  /** Throws `UNAUTHORIZED` without a known token, `FORBIDDEN` when its scope does not cover the method. */
  authorize(request: FastifyRequest): void {
    const scope = this.scopeOf(request);
    if (!scope) throw unauthorized();
    if (scope === 'read' && !READ_METHODS.has(request.method)) {
      throw new FedlearnError(
        'FORBIDDEN',
        `a read-only token may not ${request.method} here; use an admin token`,
      );
    }
  }
}

export function unauthorized(): FedlearnError {
  return new FedlearnError(
    'UNAUTHORIZED',
    'missing or wrong bearer token: send Authorization: Bearer <api token>',
  );
}
