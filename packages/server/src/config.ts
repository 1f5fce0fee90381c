import { DEFAULT_MAX_PARAMS_BYTES, FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

export const coordinatorConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8700),
  /** Bearer token for the control API (`/v1/*`). */
  apiToken: z.string().min(16, 'apiToken must be at least 16 characters'),
  /** A second control-API token that may only read (GET/HEAD): dashboards, `fedlearn status`. */
  apiReadToken: z.string().min(16, 'apiReadToken must be at least 16 characters').optional(),
  /** Token clients present in the socket.io handshake (`auth.token`). */
  clientToken: z.string().min(16, 'clientToken must be at least 16 characters'),
  /**
   * How a hello proves its client id. `enrolled`: with the credential issued at enrollment
   * (`POST /v1/enrollments`); unknown ids, wrong and revoked credentials are refused. `token`: the
   * shared client token only, so any holder may claim any id (development and the demo).
   */
  clientAuth: z.enum(['token', 'enrolled']).default('token'),
  /** PEM file paths; both or neither (one alone is refused, never served as plain HTTP). */
  tls: z
    .object({ key: z.string().min(1), cert: z.string().min(1) })
    .strict()
    .optional(),
  /** Per peer address: socket handshakes and hellos (token bucket), control-API requests (per minute). */
  rateLimits: z
    .object({
      connectionBurst: z.number().int().positive().default(5000),
      connectionsPerSecond: z.number().positive().default(100),
      apiPerMinute: z.number().int().positive().default(6000),
    })
    .strict()
    .prefault({}),
  /** Largest model payload accepted from a client, in bytes. */
  maxPayloadBytes: z.number().int().positive().default(DEFAULT_MAX_PARAMS_BYTES),
  chunkBytes: z
    .number()
    .int()
    .min(1024)
    .default(512 * 1024),
  /** Chunks a client may send ahead of the coordinator's acks, and the coordinator ahead of its. */
  transferWindow: z.number().int().min(1).max(64).default(8),
  /**
   * Most bytes of client uploads (model updates) buffered at once across all clients; more uploads
   * wait their turn. Default: twice `maxPayloadBytes`.
   */
  transferBudgetBytes: z.number().int().positive().optional(),
  heartbeatIntervalMs: z.number().int().positive().default(5000),
  /**
   * A client that sends nothing (not even a heartbeat) for this long is disconnected and leaves its
   * round (checked every heartbeat interval). Absent: no eviction; three intervals is a good value.
   */
  heartbeatTimeoutMs: z.number().int().positive().optional(),
  /** socket.io's own keep-alive (engine.io ping), as in socket.io's server options. */
  pingIntervalMs: z.number().int().positive().default(25_000),
  pingTimeoutMs: z.number().int().positive().default(20_000),
  /** A chunked transfer not finished this long after its first frame is dropped (its memory freed). */
  transferTimeoutMs: z.number().int().positive().default(60_000),
  /** Most bytes of unfinished transfers a connection may hold before its hello. */
  unidentifiedBufferBytes: z
    .number()
    .int()
    .nonnegative()
    .default(64 * 1024),
  /** Folder for the global model after every round (TensorFlow.js layers format). */
  checkpointDir: z.string().default('.fedlearn/checkpoints'),
  /**
   * The embedded state store's folder when no store is given (default: `.state` inside the
   * checkpoint folder, so two coordinators with their own checkpoint folders never share state).
   * With `DATABASE_URL`, pass a PostgreSQL store instead.
   */
  stateDir: z.string().min(1).optional(),
  serverId: z.string().default('fedlearn-coordinator'),
});

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;
export type CoordinatorConfigInput = z.input<typeof coordinatorConfigSchema>;

export function parseCoordinatorConfig(input: CoordinatorConfigInput): CoordinatorConfig {
  const result = coordinatorConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new FedlearnError('INVALID_CONFIG', `invalid coordinator configuration: ${issues}`);
  }
  return result.data;
}
