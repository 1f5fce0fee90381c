import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';

/** A training job, as submitted to `POST /v1/jobs` or `Coordinator.submitJob`. */
export const jobSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use letters, digits, . _ - (max 64)')
      .default('model'),
    rounds: z.number().int().min(1).max(100_000),
    seed: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 32 - 1)
      .default(0),
    strategy: z
      .object({
        name: z.literal('fedavg').default('fedavg'),
        fractionFit: z.number().gt(0).max(1).default(1),
        fractionEvaluate: z.number().gt(0).max(1).default(1),
        minFitClients: z.number().int().min(1).default(2),
        minEvaluateClients: z.number().int().min(1).default(1),
        minAvailableClients: z.number().int().min(1).optional(),
      })
      .default({
        name: 'fedavg',
        fractionFit: 1,
        fractionEvaluate: 1,
        minFitClients: 2,
        minEvaluateClients: 1,
      }),
    fit: z
      .object({
        localEpochs: z.number().int().min(1).max(1000).default(1),
        batchSize: z.number().int().min(1).max(65536).default(32),
        learningRate: z.number().positive().max(10).default(0.05),
      })
      .default({ localEpochs: 1, batchSize: 32, learningRate: 0.05 }),
    /** How long a round waits for fit results before closing with those it has. */
    roundTimeoutMs: z.number().int().positive().max(86_400_000).default(60_000),
    evaluateTimeoutMs: z.number().int().positive().max(86_400_000).default(30_000),
    /** How long to wait for enough connected clients before a round gives up. */
    clientWaitMs: z.number().int().positive().max(86_400_000).default(120_000),
    /** Federated evaluation on clients' held-out data after each round. */
    federatedEvaluation: z.boolean().default(true),
    model: z
      .object({
        topology: z.record(z.string(), z.unknown()).optional(),
        /** Initial weights in the fedlearn wire format, base64. Asked from a client when absent. */
        params: z.string().max(400_000_000).optional(),
      })
      .default({}),
  })
  .strict();

export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;

export function parseJobSpec(input: unknown): JobSpec {
  const result = jobSpecSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 8)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new FedlearnError('INVALID_CONFIG', `invalid job: ${issues}`);
  }
  const spec = result.data;
  const minAvailable = spec.strategy.minAvailableClients ?? spec.strategy.minFitClients;
  if (minAvailable < spec.strategy.minFitClients) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'invalid job: strategy.minAvailableClients must be ≥ minFitClients',
    );
  }
  return spec;
}
