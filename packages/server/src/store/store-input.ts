import { z } from 'zod';
import { jsonValueSchema, storedJobStatusSchema } from './records.js';

/** What callers may write; checked before anything reaches the disk or the database. */
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'use letters, digits, . _ : - (max 128)');

export const newJobSchema = z.object({
  id,
  spec: jsonValueSchema,
  priority: z.number().int().min(-1000).max(1000).optional(),
  idempotencyKey: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, '1-200 visible ASCII characters')
    .optional(),
  requestHash: z.string().min(1).max(128).optional(),
});

export const runIdSchema = z.string().min(1).max(256);

export const newEventSchema = z.object({ type: z.string().regex(/^[a-z_]{1,64}$/), data: jsonValueSchema });

export const roundErrorSchema = z.object({ code: z.string().max(64), message: z.string().max(2000) });

export const jobStatusChangeSchema = z.object({
  status: storedJobStatusSchema,
  error: roundErrorSchema.optional(),
});

export const roundStartSchema = z.object({
  round: z.number().int().positive(),
  participants: z.array(id).max(1_000_000),
});

export const newEnrollmentSchema = z.object({
  id,
  identityPublicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key, base64'),
  secretHash: z.string().min(1).max(512),
});
