import { DEFAULT_MAX_PARAMS_BYTES, FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

export const coordinatorConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8700),
  /** Bearer token for the control API (`/v1/*`). */
  apiToken: z.string().min(16, 'apiToken must be at least 16 characters'),
  /** Token clients present in the socket.io handshake (`auth.token`). */
  clientToken: z.string().min(16, 'clientToken must be at least 16 characters'),
  tls: z.object({ key: z.string(), cert: z.string() }).optional(),
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
