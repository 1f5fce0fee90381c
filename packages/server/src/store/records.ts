import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

/** Any JSON value: specs, metrics and strategy state are stored as JSON (binary state as base64). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number().finite(),
    z.boolean(),
    z.null(),
    z.array(jsonValueSchema),
    z.record(z.string(), jsonValueSchema),
  ]),
);

const isoTime = z.iso.datetime({ offset: true });
const wireError = z.object({ code: z.string(), message: z.string() }).passthrough();

export const storedJobStatusSchema = z.enum([
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
]);
export type StoredJobStatus = z.infer<typeof storedJobStatusSchema>;

export const jobRecordSchema = z.object({
  id: z.string().min(1),
  spec: jsonValueSchema,
  status: storedJobStatusSchema,
  /** Higher runs first; among equals, the lower `seq` (the earlier submission). */
  priority: z.number().int(),
  seq: z.number().int().nonnegative(),
  createdAt: isoTime,
  updatedAt: isoTime,
  startedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
  /** 0 before the first round completes. */
  lastCompletedRound: z.number().int().nonnegative(),
  error: wireError.optional(),
  /** The caller's `Idempotency-Key` and the hash of its request: the same key never makes a second job. */
  idempotencyKey: z.string().min(1).max(200).optional(),
  requestHash: z.string().min(1).max(128).optional(),
  /** The experiment run recording this job in the registry, reopened on resume. */
  runId: z.string().min(1).max(256).optional(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** Where a completed round's global model lives in the artifact store. */
export const checkpointPointerSchema = z.object({
  uri: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
});
export type CheckpointPointer = z.infer<typeof checkpointPointerSchema>;

export const roundResultSchema = z.object({
  participants: z.array(z.string()),
  metrics: z.record(z.string(), jsonValueSchema),
  checkpoint: checkpointPointerSchema,
  /** `Strategy.state()` after this round, saved with it so resume restarts the strategy too. */
  strategyState: jsonValueSchema.optional(),
});
export type RoundResult = z.infer<typeof roundResultSchema>;

export const roundRecordSchema = z.object({
  jobId: z.string().min(1),
  round: z.number().int().positive(),
  status: z.enum(['running', 'completed', 'failed']),
  participants: z.array(z.string()),
  metrics: z.record(z.string(), jsonValueSchema).optional(),
  error: wireError.optional(),
  startedAt: isoTime,
  finishedAt: isoTime.optional(),
  result: roundResultSchema.optional(),
});
export type RoundRecord = z.infer<typeof roundRecordSchema>;

/** One entry of a job's progress feed (server-sent events); `id` counts from 1 per job. */
export const jobEventSchema = z.object({
  jobId: z.string().min(1),
  id: z.number().int().positive(),
  type: z.string().min(1).max(64),
  data: jsonValueSchema,
  at: isoTime,
});
export type JobEvent = z.infer<typeof jobEventSchema>;

export const clientEnrollmentSchema = z.object({
  id: z.string().min(1).max(128),
  /** Ed25519 identity public key, base64 of its 32 bytes. */
  identityPublicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key, base64'),
  /** Hash of the client's credential (never the credential itself). */
  secretHash: z.string().min(1).max(512),
  createdAt: isoTime,
  revokedAt: isoTime.optional(),
});
export type ClientEnrollment = z.infer<typeof clientEnrollmentSchema>;

export const strategyStateRecordSchema = z.object({
  jobId: z.string().min(1),
  round: z.number().int().nonnegative(),
  state: jsonValueSchema,
  updatedAt: isoTime,
});
export type StrategyStateRecord = z.infer<typeof strategyStateRecordSchema>;

/** Validates a record read back from disk or a database: anything off is `STORE_CORRUPT`, never a default. */
export function readBack<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const where = result.error.issues
      .slice(0, 3)
      .map((i) => i.path.join('.') || '(root)')
      .join(', ');
    throw new FedlearnError('STORE_CORRUPT', `stored ${what} is invalid at ${where}`);
  }
  return result.data;
}

/** Validates a caller's input before it is written. */
export function validInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  if (!withinDepth(value, MAX_JSON_DEPTH)) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `invalid ${what}: nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new FedlearnError('INVALID_ARGUMENT', `invalid ${what}: ${describeIssues(result.error)}`);
  }
  return result.data;
}

export const MAX_JSON_DEPTH = 64;

/** Iterative, so a hostile nesting cannot overflow the stack before the schema sees it. */
function withinDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return false;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return true;
}

/** The first issues, by field and message; the values themselves are never echoed. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** JSON with object keys sorted, so two equal results compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
