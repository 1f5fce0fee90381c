import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import { DEFAULT_BATCHING } from './batching/dynamic-batcher.js';

const batchingSchema = z.object({
  enabled: z.boolean().default(DEFAULT_BATCHING.enabled),
  maxBatchSize: z.number().int().min(1).max(4096).default(DEFAULT_BATCHING.maxBatchSize),
  maxQueueDelayMs: z.number().min(0).max(1000).default(DEFAULT_BATCHING.maxQueueDelayMs),
  maxQueueRows: z.number().int().min(1).max(1_000_000).default(DEFAULT_BATCHING.maxQueueRows),
});

const authSchema = z
  .object({
    /** `off` is for the local demo only: the server then listens on 127.0.0.1 unless a host is given. */
    mode: z.enum(['off', 'api-key', 'jwt']).default('off'),
    apiKeys: z.array(z.string().min(16, 'an API key needs at least 16 characters')).default([]),
    jwt: z
      .object({
        secret: z.string().min(32, 'an HS256 secret needs at least 32 characters').optional(),
        jwksUrl: z.url().optional(),
        issuer: z.string().optional(),
        audience: z.string().optional(),
      })
      .default({}),
  })
  .superRefine((auth, ctx) => {
    if (auth.mode === 'api-key' && auth.apiKeys.length === 0)
      ctx.addIssue({ code: 'custom', message: 'api-key auth needs at least one key', path: ['apiKeys'] });
    if (auth.mode === 'jwt' && !auth.jwt.secret && !auth.jwt.jwksUrl)
      ctx.addIssue({ code: 'custom', message: 'jwt auth needs a secret or a JWKS URL', path: ['jwt'] });
  });

/** Everything `fedlearn serve` runs from; defaults serve the demo's model from ./.fedlearn. */
export const servingConfigSchema = z.object({
  models: z.array(z.string().min(1)).min(1).default(['mnist-mlp@champion']),
  http: z
    .object({
      host: z.string().optional(),
      port: z.number().int().min(0).max(65_535).default(8800),
      bodyLimitBytes: z
        .number()
        .int()
        .min(1024)
        .max(256 * 1024 * 1024)
        .default(8 * 1024 * 1024),
    })
    .default({ port: 8800, bodyLimitBytes: 8 * 1024 * 1024 }),
  grpc: z
    .object({ enabled: z.boolean().default(true), port: z.number().int().min(0).max(65_535).default(50051) })
    .default({ enabled: true, port: 50051 }),
  auth: authSchema.default({ mode: 'off', apiKeys: [], jwt: {} }),
  /** Requests per client (token or address) per window; 0 turns the limit off. */
  rateLimit: z
    .object({
      max: z.number().int().min(0).default(120_000),
      windowMs: z.number().int().min(1).default(60_000),
    })
    .default({ max: 120_000, windowMs: 60_000 }),
  batching: batchingSchema.default(DEFAULT_BATCHING),
  pollIntervalMs: z.number().int().min(0).default(5000),
  graphql: z
    .object({
      enabled: z.boolean().default(true),
      graphiql: z.boolean().default(true),
      introspection: z.boolean().default(true),
      maxDepth: z.number().int().min(1).max(50).default(8),
      maxCost: z.number().int().min(1).default(2000),
    })
    .default({ enabled: true, graphiql: true, introspection: true, maxDepth: 8, maxCost: 2000 }),
  /** The Redis Streams worker (9B's `startStreamsWorker`); off unless asked for. */
  streams: z
    .object({
      enabled: z.boolean().default(false),
      redisUrl: z.string().default('redis://127.0.0.1:6379'),
      requestStream: z.string().min(1).default('fedlearn:requests'),
      resultStream: z.string().min(1).default('fedlearn:results'),
    })
    .default({
      enabled: false,
      redisUrl: 'redis://127.0.0.1:6379',
      requestStream: 'fedlearn:requests',
      resultStream: 'fedlearn:results',
    }),
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
});

export type ServingConfig = z.infer<typeof servingConfigSchema>;
export type ServingConfigInput = z.input<typeof servingConfigSchema>;

/** Validates a configuration object, filling defaults; anything wrong is INVALID_CONFIG naming the field. */
export function resolveServingConfig(input: ServingConfigInput = {}): ServingConfig {
  const parsed = servingConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new FedlearnError('INVALID_CONFIG', `invalid serving configuration: ${issues}`);
  }
  return parsed.data;
}
