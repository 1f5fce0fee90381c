import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

const tag = z.object({ key: z.string(), value: z.string().optional().default('') });
const int = z.union([z.number(), z.string()]).transform((v) => Number(v));

export const experimentSchema = z.object({
  experiment: z.object({
    experiment_id: z.string(),
    name: z.string(),
    artifact_location: z.string().optional(),
  }),
});

export const runInfoSchema = z.object({
  run_id: z.string(),
  experiment_id: z.string(),
  artifact_uri: z.string(),
  status: z.string().optional(),
});
export const runSchema = z.object({ run: z.object({ info: runInfoSchema }) });

export const metricSchema = z.object({
  key: z.string(),
  value: z.number(),
  timestamp: int,
  step: int.optional().default(0),
});
export const runWithDataSchema = z.object({
  run: z.object({
    info: runInfoSchema,
    data: z
      .object({ metrics: z.array(metricSchema).optional().default([]) })
      .optional()
      .default({ metrics: [] }),
  }),
});

export const modelVersionSchema = z.object({
  name: z.string(),
  version: int,
  creation_timestamp: int.optional(),
  source: z.string().optional().default(''),
  run_id: z.string().optional(),
  status: z.string().optional(),
  tags: z.array(tag).optional().default([]),
  aliases: z.array(z.string()).optional().default([]),
});
export type MlflowModelVersion = z.infer<typeof modelVersionSchema>;

export const registeredModelSchema = z.object({
  name: z.string(),
  creation_timestamp: int.optional(),
  latest_versions: z.array(modelVersionSchema).optional().default([]),
  aliases: z
    .array(z.object({ alias: z.string(), version: int }))
    .optional()
    .default([]),
  tags: z.array(tag).optional().default([]),
});
export type MlflowRegisteredModel = z.infer<typeof registeredModelSchema>;

/** Validates an MLflow response; a mismatch is REGISTRY_BAD_RESPONSE naming the call. */
export function expectShape<T extends z.ZodType>(schema: T, value: unknown, call: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new FedlearnError(
      'REGISTRY_BAD_RESPONSE',
      `MLflow ${call}: unexpected response: ${parsed.error.issues[0]?.message}`,
      {
        details: { call },
      },
    );
  }
  return parsed.data;
}

export function tagsToRecord(tags: readonly { key: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.key, t.value]));
}

export function recordToTags(record: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}
