import { z } from 'zod';
import { type ErrorCode, FedlearnError, isErrorCode } from '../errors.js';
import { fitPrivacySchema } from '../privacy/distributed-noise.js';
import { echoable } from './peer-values.js';

/**
 * Names a peer chooses that may end up as object keys. `Object.prototype`'s own names
 * (`__proto__`, `constructor`, `toString`, ...) are refused so that no such key can reach or
 * shadow a prototype, whatever container a later layer keeps them in.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

function plainName(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
      'start with a letter or digit; use letters, digits and . _ : - only',
    )
    .refine((name) => !PROTOTYPE_KEYS.has(name), 'is a reserved name');
}

/** Client ids are chosen by clients: short, printable, safe in logs, file names and object keys. */
export const clientIdSchema = plainName(128);

const finite = z.number().finite();
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const jobId = z.string().min(1).max(128);
const round = z.number().int().positive();
const metrics = z
  .record(plainName(64), finite)
  .refine((m) => Object.keys(m).length <= 64, 'too many metrics');
/** Binary fields arrive as Buffer in Node and as ArrayBuffer or Uint8Array in browsers. */
const binary = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected binary data');

export const fitConfigSchema = z.object({
  localEpochs: z.number().int().min(1).max(1000),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 16),
  learningRate: z.number().positive().max(10),
  /** Seed for the client's shuffling, so a round can be replayed. */
  seed: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 32 - 1),
  /** FedProx's μ: the trainer adds μ/2·‖w − w_global‖² to the local loss (absent or 0: plain training). */
  proximalMu: z.number().finite().min(0).max(1000).optional(),
  /** DP-FedAvg: clip the update to an L2 norm (and, under distributed DP, add a noise share before masking). */
  privacy: fitPrivacySchema.optional(),
});
export type FitConfig = z.infer<typeof fitConfigSchema>;

/**
 * Chunked-transfer settings: in a hello, what the client offers (its largest chunk and its window);
 * in the welcome, what both sides use from then on (the smaller of each).
 */
export const transferSettingsSchema = z.object({
  chunkBytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024),
  window: z.number().int().min(1).max(64),
});

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocolVersion: z.string().max(64),
  clientId: clientIdSchema,
  numExamples: count,
  numEvalExamples: count,
  capabilities: z.object({ secagg: z.boolean(), backend: z.string().max(64) }),
  runtime: z.string().max(128).optional(),
  /** A hash and size of the client's training data, for model lineage (never the data). */
  dataFingerprint: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), examples: count }).optional(),
  /**
   * Proof of the client id: the credential issued when the client was enrolled. A coordinator that
   * requires enrollment refuses a hello without a valid one; it is never logged or echoed.
   */
  credential: z.string().min(1).max(256).optional(),
  /** Absent from older clients: they get no acks and send without waiting for them. */
  transfer: transferSettingsSchema.optional(),
});

export const heartbeatSchema = z.object({ type: z.literal('heartbeat'), sentAt: finite });

export const fitResSchema = z.object({
  type: z.literal('fit_res'),
  jobId,
  round,
  numExamples: count.min(1),
  metrics,
  params: binary,
});

/**
 * One secure-aggregation message (see `secagg`), encoded with `encodeSecAggMessage` into `params`
 * so it is chunked and size-limited like weights. The same envelope goes both ways.
 */
export const secaggEnvelopeSchema = z.object({
  type: z.literal('secagg'),
  jobId,
  round,
  params: binary,
});

export const evaluateResSchema = z.object({
  type: z.literal('evaluate_res'),
  jobId,
  round,
  numExamples: count.min(1),
  loss: finite,
  metrics,
});

export const getParametersResSchema = z.object({
  type: z.literal('get_parameters_res'),
  requestId: z.string().min(1).max(128),
  /** The Keras-style topology of the client's model, so the coordinator can save `model.json`. */
  modelTopology: z.record(z.string(), z.unknown()),
  params: binary,
});

/**
 * An error as a peer sends it. A code this version does not know (added by a newer peer) is read
 * as `INTERNAL` with the peer's message, and the code it sent in `details.code`, so an older
 * client or coordinator still understands that something failed and why.
 */
export const wireErrorSchema = z
  .object({
    code: z
      .string()
      .max(64)
      .regex(/^[A-Z][A-Z0-9_]*$/),
    message: z.string().max(4096),
    details: z.record(z.string(), z.unknown()).default({}),
  })
  .transform(
    ({ code, message, details }): { code: ErrorCode; message: string; details: Record<string, unknown> } =>
      isErrorCode(code)
        ? { code, message, details }
        : { code: 'INTERNAL', message, details: { ...details, code } },
  );
export type WireError = z.output<typeof wireErrorSchema>;

/** A client could not do what it was asked (e.g. training diverged). */
export const clientErrorSchema = z.object({
  type: z.literal('client_error'),
  jobId: jobId.optional(),
  round: round.optional(),
  error: wireErrorSchema,
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  heartbeatSchema,
  fitResSchema,
  evaluateResSchema,
  getParametersResSchema,
  clientErrorSchema,
  secaggEnvelopeSchema,
]);

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.string().max(64),
  serverId: z.string().max(128),
  heartbeatIntervalMs: z.number().int().positive(),
  /** Present when the hello offered transfer settings: the ones both sides now use. */
  transfer: transferSettingsSchema.optional(),
});

export const fitInsSchema = z.object({
  type: z.literal('fit_ins'),
  jobId,
  round,
  /** Epoch milliseconds after which the coordinator no longer waits for this result. */
  deadline: finite,
  config: fitConfigSchema,
  /**
   * Set in a secure-aggregation round: the client does not upload its weights but takes part in
   * the SecAgg+ stages (the setup follows as a `secagg` message) with its update as a delta.
   */
  secureAggregation: z.literal(true).optional(),
  params: binary,
});

export const evaluateInsSchema = z.object({
  type: z.literal('evaluate_ins'),
  jobId,
  round,
  deadline: finite,
  config: z.object({ batchSize: fitConfigSchema.shape.batchSize }),
  params: binary,
});

export const getParametersInsSchema = z.object({
  type: z.literal('get_parameters_ins'),
  requestId: z.string().min(1).max(128),
});

/** A typed refusal, sent to the one client whose message caused it. */
export const serverErrorSchema = z.object({
  type: z.literal('error'),
  error: wireErrorSchema,
  inReplyTo: z
    .object({ type: z.string(), jobId: z.string().optional(), round: z.number().optional() })
    .optional(),
  /** When true the server closes the connection after this message. */
  fatal: z.boolean().default(false),
});

export const serverMessageSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  fitInsSchema,
  evaluateInsSchema,
  getParametersInsSchema,
  serverErrorSchema,
  secaggEnvelopeSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type FitRes = z.infer<typeof fitResSchema>;
export type EvaluateRes = z.infer<typeof evaluateResSchema>;
export type GetParametersRes = z.infer<typeof getParametersResSchema>;
export type ClientError = z.infer<typeof clientErrorSchema>;
export type SecAggEnvelope = z.infer<typeof secaggEnvelopeSchema>;
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type FitIns = z.infer<typeof fitInsSchema>;
export type EvaluateIns = z.infer<typeof evaluateInsSchema>;
export type GetParametersIns = z.infer<typeof getParametersInsSchema>;
export type ServerError = z.input<typeof serverErrorSchema>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, side: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 5)
    .map(
      (issue) =>
        `${issue.path.map((part) => String(part).slice(0, 64)).join('.') || '(root)'}: ${issue.message}`,
    )
    .join('; ');
  const type = echoable(
    typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined,
  );
  throw new FedlearnError(
    'MALFORMED_MESSAGE',
    `malformed ${side} message${typeof type === 'string' ? ` "${type}"` : ''}: ${issues}`,
    { details: typeof type === 'string' ? { type } : {} },
  );
}

/** Validates a message received from a client. Throws `MALFORMED_MESSAGE`. */
export function parseClientMessage(raw: unknown): ClientMessage {
  return parseWith(clientMessageSchema, raw, 'client');
}

/** Validates a message received from the server. Throws `MALFORMED_MESSAGE`. */
export function parseServerMessage(raw: unknown): ServerMessage {
  return parseWith(serverMessageSchema, raw, 'server');
}
