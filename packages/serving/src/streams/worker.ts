import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type ErrorCode, FedlearnError, isFedlearnError, toFedlearnError } from '@fedlearn/core';
import { Redis } from 'ioredis';
import type { Principal } from '../auth/authenticator.js';
import { RateLimiter, type RateLimitOptions } from '../auth/rate-limiter.js';
import type { InferenceService } from '../inference/contract.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import {
  DEFAULT_STREAM_LIMITS,
  type EntryFields,
  fieldsOf,
  parseRequestEntry,
  resultFields,
  type StreamLimits,
} from './stream-entry.js';

export interface StreamsWorkerOptions {
  /** A connection to copy (the worker opens its own two), or a URL such as REDIS_URL. */
  redis: Redis | string;
  requestStream: string;
  resultStream: string;
  /** Default `<requestStream>:dead-letter`. */
  deadLetterStream?: string;
  /** Consumer group shared by every worker. Default `fedlearn-serving`. */
  group?: string;
  /** This worker's name in the group; unique per process by default. */
  consumer?: string;
  /** Entries read per call. Default 16. */
  count?: number;
  /** How long one read blocks; also how often pending entries are checked for reclaiming. Default 1000 ms. */
  blockMs?: number;
  /** An entry pending this long belongs to a dead consumer and is claimed (XAUTOCLAIM). Default 60 s. */
  claimIdleMs?: number;
  /** Deliveries after which a failing entry goes to the dead-letter stream. Default 3. */
  maxDeliveries?: number;
  /** Approximate cap on the result and dead-letter streams (XADD MAXLEN ~). Default 100000. */
  maxStreamLength?: number;
  limits?: Partial<StreamLimits>;
  /** Backoff after a Redis error. Default 500 ms. */
  errorBackoffMs?: number;
  onEvent?: (event: StreamsWorkerEvent) => void;
  /** Records each answered or refused entry and its latency under protocol `streams`. */
  metrics?: Pick<ServingMetrics, 'observeRequest'>;
  /**
   * When set (auth on), every entry must carry a `token` field (an API key or JWT) that this resolves
   * to a caller, or it is dead-lettered UNAUTHORIZED without running. The token is never copied to the
   * result or dead-letter streams.
   */
  authenticate?: (token: string | undefined) => Promise<Pick<Principal, 'id'>>;
  /**
   * Entries per caller (the token's principal; with auth off, all entries count as one caller) per
   * window; over it, an entry is dead-lettered RATE_LIMITED without running. Off when absent or 0.
   */
  rateLimit?: RateLimitOptions;
}

export type StreamsWorkerEvent =
  | { type: 'result'; entry: string; model: string; version: string }
  | { type: 'retry'; entry: string; deliveries: number; code: ErrorCode }
  | { type: 'dead-letter'; entry: string; deliveries: number; code: ErrorCode; reason: string }
  | { type: 'claimed'; entries: string[] }
  | { type: 'redis-error'; message: string };

export interface StreamsWorkerHandle {
  readonly consumer: string;
  readonly group: string;
  /** Stops reading, finishes the entries in hand, and closes the worker's connections. */
  close(): Promise<void>;
}

/** Refusals that another delivery cannot change: dead-lettered at once. Anything else is retried. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MALFORMED_MESSAGE',
  'INVALID_ARGUMENT',
  'INPUT_SIGNATURE_MISMATCH',
  'MODEL_NOT_SERVED',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'RATE_LIMITED',
]);

/** The field an entry carries its credentials in when auth is on. */
export const TOKEN_FIELD = 'token';
const ANONYMOUS_CALLER = 'anonymous';

type StreamEntry = [id: string, fields: string[]];

function connect(redis: Redis | string): Redis {
  return typeof redis === 'string' ? new Redis(redis, { lazyConnect: false }) : redis.duplicate();
}

/**
 * Answers inference requests from a Redis stream with a consumer group: results to a result stream,
 * XACK after the result is written (in one MULTI), XAUTOCLAIM of entries a dead consumer left pending,
 * and malformed or repeatedly failing entries to a dead-letter stream with the reason.
 *
 * @example
 * const worker = await startStreamsWorker(service, { redis: 'redis://127.0.0.1:6379',
 *   requestStream: 'fedlearn:requests', resultStream: 'fedlearn:results' });
 */
export async function startStreamsWorker(
  service: InferenceService,
  options: StreamsWorkerOptions,
): Promise<StreamsWorkerHandle> {
  const stream = options.requestStream;
  const group = options.group ?? 'fedlearn-serving';
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const deadLetterStream = options.deadLetterStream ?? `${stream}:dead-letter`;
  const count = options.count ?? 16;
  const blockMs = options.blockMs ?? 1000;
  const claimIdleMs = options.claimIdleMs ?? 60_000;
  const maxDeliveries = options.maxDeliveries ?? 3;
  const maxLength = options.maxStreamLength ?? 100_000;
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...options.limits };
  const emit = options.onEvent ?? (() => {});
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : undefined;
  const commands = connect(options.redis);
  const blocking = connect(options.redis);
  let stopping = false;

  async function ensureGroup(): Promise<void> {
    try {
      await commands.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  async function commit(entry: string, target: string, fields: (string | number)[]): Promise<void> {
    const replies = await commands
      .multi()
      .xadd(target, 'MAXLEN', '~', maxLength, '*', ...fields)
      .xack(stream, group, entry)
      .exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('MULTI was discarded');
  }

  async function deadLetter(entry: string, fields: EntryFields, deliveries: number, error: unknown) {
    const fedlearn = toFedlearnError(error);
    const reason = isFedlearnError(error) ? fedlearn.message : 'internal error';
    const { [TOKEN_FIELD]: _secret, ...kept } = fields;
    const original = JSON.stringify(kept);
    await commit(entry, deadLetterStream, [
      'entry',
      entry,
      'code',
      fedlearn.code,
      'reason',
      reason,
      'deliveries',
      deliveries,
      'fields',
      original.length <= limits.maxEntryChars
        ? original
        : '(larger than the entry limit; see the request stream)',
    ]);
    emit({ type: 'dead-letter', entry, deliveries, code: fedlearn.code, reason });
  }

  async function handle(entry: string, flat: string[], deliveries: number): Promise<void> {
    const fields = fieldsOf(flat);
    const started = performance.now();
    const observe = (outcome: string) =>
      options.metrics?.observeRequest(
        'streams',
        fields['model'] ?? '',
        outcome,
        (performance.now() - started) / 1000,
      );
    try {
      const caller = options.authenticate
        ? (await options.authenticate(fields[TOKEN_FIELD])).id
        : ANONYMOUS_CALLER;
      limiter?.take(caller);
      const request = parseRequestEntry(entry, fields, limits);
      const result = await service.infer(request);
      await commit(entry, options.resultStream, resultFields(entry, result));
      observe('ok');
      emit({ type: 'result', entry, model: result.model, version: result.version });
    } catch (error) {
      const code = toFedlearnError(error).code;
      observe(code);
      if (PERMANENT.has(code) || deliveries >= maxDeliveries) {
        await deadLetter(entry, fields, deliveries, error);
      } else {
        // Left pending: XAUTOCLAIM hands it out again once it has been idle for claimIdleMs.
        emit({ type: 'retry', entry, deliveries, code });
      }
    }
  }

  async function deliveriesOf(entry: string): Promise<number> {
    const pending = (await commands.xpending(stream, group, entry, entry, 1)) as [
      string,
      string,
      number,
      number,
    ][];
    return pending[0]?.[3] ?? 1;
  }

  async function reclaim(): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = (await commands.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        cursor,
        'COUNT',
        count,
      )) as [string, StreamEntry[]];
      if (entries.length > 0) emit({ type: 'claimed', entries: entries.map(([id]) => id) });
      for (const [entry, flat] of entries) {
        const deliveries = await deliveriesOf(entry);
        if (deliveries > maxDeliveries) {
          // Delivered more often than allowed without an answer: it probably crashes its consumers.
          const error = new FedlearnError('INTERNAL', `delivered ${deliveries} times without an answer`);
          await deadLetter(entry, fieldsOf(flat), deliveries, error);
        } else {
          await handle(entry, flat, deliveries);
        }
      }
      cursor = next;
    } while (cursor !== '0-0' && !stopping);
  }

  async function readNew(): Promise<void> {
    const reply = (await blocking.xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      stream,
      '>',
    )) as [string, StreamEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    // Concurrently, so the serving core can batch them into one predict.
    await Promise.all(entries.map(([entry, flat]) => handle(entry, flat, 1)));
  }

  await ensureGroup();
  const loop = (async () => {
    while (!stopping) {
      try {
        await reclaim();
        await readNew();
      } catch (error) {
        if (stopping) break;
        const message = String((error as Error).message);
        emit({ type: 'redis-error', message });
        if (message.startsWith('NOGROUP')) await ensureGroup().catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, options.errorBackoffMs ?? 500));
      }
    }
  })();

  return {
    consumer,
    group,
    close: async () => {
      stopping = true;
      blocking.disconnect();
      await loop;
      await commands.quit().catch(() => {});
    },
  };
}
