import {
  FedlearnError,
  NO_PRIVACY,
  noiseShare,
  parseStrategySpec,
  planPrivacy,
  privacySpecSchema,
  resolveSecAggParams,
  type StrategySpec,
  toFedlearnError,
} from '@fedlearn/core';
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
    /** `{ name, ...options }`: the strategy and its own options, validated by its registry entry. */
    strategy: z
      .record(z.string(), z.unknown())
      .default({ name: 'fedavg' })
      .transform((input, ctx): StrategySpec => {
        try {
          return parseStrategySpec(input);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: toFedlearnError(error).message });
          return z.NEVER;
        }
      }),
    fit: z
      .object({
        localEpochs: z.number().int().min(1).max(1000).default(1),
        batchSize: z.number().int().min(1).max(65536).default(32),
        learningRate: z.number().positive().max(10).default(0.05),
      })
      .strict()
      .default({ localEpochs: 1, batchSize: 32, learningRate: 0.05 }),
    /**
     * Over-selection (plain rounds): ask this fraction more clients than the strategy chose, the
     * most reliable first, and close the round as soon as the strategy's number of updates arrived.
     */
    overSelection: z.number().min(0).max(1).default(0),
    /** How long a round waits for fit results before closing with those it has. */
    roundTimeoutMs: z.number().int().positive().max(86_400_000).default(60_000),
    evaluateTimeoutMs: z.number().int().positive().max(86_400_000).default(30_000),
    /** How long to wait for enough connected clients before a round gives up. */
    clientWaitMs: z.number().int().positive().max(86_400_000).default(120_000),
    /** Federated evaluation on clients' held-out data after each round. */
    federatedEvaluation: z.boolean().default(true),
    secagg: z
      .object({
        /** Rounds run SecAgg+: the coordinator only learns the sum of the clients' updates. */
        enabled: z.boolean().default(false),
        /** k, the degree of the neighbour graph (default 2·⌈log2 n⌉, or n − 1 when n is small). */
        neighbours: z.number().int().min(2).optional(),
        /** t, shares needed to rebuild a client's secrets (default ⌊k/2⌋ + 1; 2t > k is required when k < n − 1). */
        threshold: z.number().int().min(2).optional(),
        /** Each coordinate of a client's update (a delta from the global model) is clipped to [−clip, clip]. */
        clip: z.number().positive().finite().default(1),
        /** Quantization bits per coordinate. */
        bits: z.number().int().min(1).max(24).default(16),
        /**
         * Largest weight (number of examples) a client may send; default: the largest any sampled client
         * announced, capped so the ring fits in 32 bits (a client with more examples sends the cap).
         */
        maxWeight: z
          .number()
          .int()
          .positive()
          .max(2 ** 31)
          .optional(),
        /** Deadline of each SecAgg+ stage after the first (the first waits for training: `roundTimeoutMs`). */
        stageTimeoutMs: z.number().int().positive().max(86_400_000).default(30_000),
        /**
         * 'semi-honest' (default): privacy against a coordinator that follows the protocol.
         * 'malicious': signed keys and a consistency check (Bonawitz et al. §6), against one that does not.
         */
        mode: z.enum(['semi-honest', 'malicious']).default('semi-honest'),
        /** Malicious mode: each client's enrolled Ed25519 public key, hex; only these clients are sampled. */
        identities: z
          .record(
            z.string().min(1).max(256),
            z.string().regex(/^[0-9a-f]{64}$/, 'an Ed25519 public key: 64 hex digits'),
          )
          .refine((m) => Object.keys(m).length <= 100_000, 'at most 100000 identities')
          .optional(),
      })
      .strict()
      .default({ enabled: false, clip: 1, bits: 16, stageTimeoutMs: 30_000, mode: 'semi-honest' }),
    /** Differential privacy (DP-FedAvg), central or distributed under secure aggregation: see docs/privacy.md. */
    privacy: privacySpecSchema.default(NO_PRIVACY),
    model: z
      .object({
        topology: z.record(z.string(), z.unknown()).optional(),
        /** Initial weights in the fedlearn wire format, base64. Asked from a client when absent. */
        params: z.string().max(400_000_000).optional(),
        /** How long one client is given to send its initial weights before the next is asked. */
        requestTimeoutMs: z.number().int().positive().max(86_400_000).default(30_000),
      })
      .strict()
      .default({ requestTimeoutMs: 30_000 }),
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
  if (spec.privacy.mode !== 'none') checkPrivacy(spec);
  if (spec.secagg.enabled) checkSecAgg(spec);
  return spec;
}

/**
 * Refuses a private job that cannot work or would exceed its budget: distributed DP needs secure
 * aggregation (and weighs every client once, so its ring's maxWeight is 1), central DP needs the
 * updates in the clear, and the ring must hold a clipped update plus one client's noise.
 */
function checkPrivacy(spec: JobSpec): void {
  const { privacy, secagg, strategy } = spec;
  if (privacy.mode === 'distributed' && !secagg.enabled) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'invalid job: privacy.mode "distributed" adds the noise under secure aggregation: enable secagg (or use "central")',
    );
  }
  if (privacy.mode === 'central' && secagg.enabled) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'invalid job: privacy.mode "central" clips each update in the clear; under secure aggregation use "distributed"',
    );
  }
  if (privacy.mode === 'distributed') {
    secagg.maxWeight ??= 1;
    try {
      // The model's size is not known yet: the bound for d = 0 here, the exact one on each client.
      noiseShare(
        {
          noiseMultiplier: privacy.noiseMultiplier,
          clients: strategy.minFitClients,
          clipRange: secagg.clip,
          bits: secagg.bits,
        },
        privacy.clipNorm,
        0,
      );
    } catch (error) {
      const e = toFedlearnError(error);
      throw new FedlearnError(e.code, `invalid job: privacy: ${e.message}`, { details: e.details });
    }
  }
  planPrivacy(privacy, strategy.fractionFit, spec.rounds);
}

/**
 * Refuses, at submission, a secure-aggregation setting that cannot work: fewer than 3 clients per
 * round, bad k/t, or a ring that overflows even for the smallest round the job allows. What
 * depends on the sampled clients (their number and weights) is checked again each round.
 */
function checkSecAgg(spec: JobSpec): void {
  const { secagg, strategy } = spec;
  if (strategy.minFitClients < 3) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'invalid job: secure aggregation needs strategy.minFitClients ≥ 3 (a sum of two updates reveals each to the other)',
    );
  }
  if (secagg.mode === 'malicious' && Object.keys(secagg.identities ?? {}).length < strategy.minFitClients) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'invalid job: secagg.mode "malicious" needs secagg.identities (client id → Ed25519 public key) for at least minFitClients clients',
    );
  }
  const n = Math.max(strategy.minFitClients, (secagg.neighbours ?? 0) + 1);
  try {
    resolveSecAggParams(
      {
        dimension: 1,
        clipRange: secagg.clip,
        quantizationBits: secagg.bits,
        maxWeight: secagg.maxWeight ?? 1,
        ...(secagg.neighbours === undefined ? {} : { neighbours: secagg.neighbours }),
        ...(secagg.threshold === undefined ? {} : { threshold: secagg.threshold }),
      },
      n,
    );
  } catch (error) {
    const e = toFedlearnError(error);
    throw new FedlearnError(e.code, `invalid job: secagg: ${e.message}`, { details: e.details });
  }
}

/** The enrolled identity keys of a malicious-mode job, as bytes. */
export function identityKeys(spec: JobSpec): Map<string, Uint8Array> {
  return new Map(
    Object.entries(spec.secagg.identities ?? {}).map(([id, hex]) => [
      id,
      Uint8Array.from(Buffer.from(hex, 'hex')),
    ]),
  );
}
