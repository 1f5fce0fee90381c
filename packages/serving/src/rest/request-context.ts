import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { InferOptions } from '../inference/contract.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `x-request-id` when it is a sane token, else a fresh UUID (logged and echoed). */
export function requestIdFromHeader(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value[0] : value;
  return text && REQUEST_ID.test(text) ? text : randomUUID();
}

export function requestIdOf(req: FastifyRequest): string {
  return String(req.id);
}

/** `x-request-timeout-ms` (1 ms to 10 min) becomes an absolute deadline for the batcher. */
export function deadlineFrom(req: FastifyRequest, now: () => number = Date.now): InferOptions {
  const raw = req.headers['x-request-timeout-ms'];
  const ms = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isInteger(ms) && ms >= 1 && ms <= 600_000 ? { deadline: now() + ms } : {};
}
