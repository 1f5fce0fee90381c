import { z } from 'zod';
import { secaggError } from './errors.js';

/**
 * The secure-aggregation messages. Plain objects with Uint8Array binary fields, so they cross
 * socket.io unchanged (a Node Buffer is a Uint8Array). The schemas check shape; the state machines
 * then check lengths, ranges and authentication and name the client at fault.
 */
// socket.io hands binary over as a Buffer in Node and as an ArrayBuffer in browsers.
const bytes = z.preprocess(
  (value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : value),
  z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected a Uint8Array'),
);
const clientId = z.string().min(1).max(256);
const round = z.number().int().nonnegative();

const signed = { clientId, signature: bytes };

export const SecAggSetupSchema = z.object({
  type: z.literal('secagg/setup'),
  round,
  participants: z.array(clientId).min(3),
  config: z.record(z.string(), z.unknown()),
  graphSeed: bytes,
  /** 'malicious': signed keys and a consistency check (Bonawitz et al. §6). Absent: semi-honest. */
  mode: z.enum(['semi-honest', 'malicious']).optional(),
  /** Malicious mode: each participant's Ed25519 identity key, as enrolled. */
  identities: z.array(z.object({ clientId, publicKey: bytes })).optional(),
});

export const SecAggAdvertiseKeysSchema = z.object({
  type: z.literal('secagg/advertise-keys'),
  round,
  encPublicKey: bytes,
  maskPublicKey: bytes,
  /** Malicious mode: Ed25519 signature over the round, the id and both keys. */
  signature: bytes.optional(),
});

export const SecAggKeysSchema = z.object({
  type: z.literal('secagg/keys'),
  round,
  keys: z.array(
    z.object({ clientId, encPublicKey: bytes, maskPublicKey: bytes, signature: bytes.optional() }),
  ),
});

export const SecAggShareKeysSchema = z.object({
  type: z.literal('secagg/share-keys'),
  round,
  seedCommitment: bytes,
  shares: z.array(z.object({ to: clientId, ciphertext: bytes })),
});

export const SecAggSharesSchema = z.object({
  type: z.literal('secagg/shares'),
  round,
  shares: z.array(z.object({ from: clientId, ciphertext: bytes })),
});

export const SecAggMaskedInputSchema = z.object({
  type: z.literal('secagg/masked-input'),
  round,
  length: z.number().int().positive(),
  bits: z.number().int().min(1).max(32),
  vector: bytes,
  /** Neighbours whose share bundle for this client failed authentication or was malformed. */
  refusedShares: z.array(clientId).max(4096).optional(),
});

/** Malicious mode, server → every survivor: the survivor set, for each to sign. */
export const SecAggConsistencyRequestSchema = z.object({
  type: z.literal('secagg/consistency-request'),
  round,
  survivors: z.array(clientId),
});

/** Malicious mode, client → server: its signature over the survivor set it was told. */
export const SecAggConsistencySchema = z.object({
  type: z.literal('secagg/consistency'),
  round,
  signature: bytes,
});

export const SecAggUnmaskRequestSchema = z.object({
  type: z.literal('secagg/unmask-request'),
  round,
  survivors: z.array(clientId),
  dropped: z.array(clientId),
  /** Malicious mode: the survivors' signatures over the survivor set. */
  signatures: z.array(z.object(signed)).optional(),
});

export const SecAggUnmaskSchema = z.object({
  type: z.literal('secagg/unmask'),
  round,
  seedShares: z.array(z.object({ owner: clientId, share: bytes })),
  keyShares: z.array(z.object({ owner: clientId, share: bytes })),
});

/** Server → every participant, once: who takes part, the config, and the seed of the neighbour graph. */
export type SecAggSetup = z.infer<typeof SecAggSetupSchema>;
/** Client → server, stage 1: its two X25519 public keys (share encryption, masking). */
export type SecAggAdvertiseKeys = z.infer<typeof SecAggAdvertiseKeysSchema>;
/** Server → each client, end of stage 1: its live neighbours' public keys. */
export type SecAggKeys = z.infer<typeof SecAggKeysSchema>;
/** Client → server, stage 2: one sealed share bundle per live neighbour, and a commitment to its self-mask seed. */
export type SecAggShareKeys = z.infer<typeof SecAggShareKeysSchema>;
/** Server → each client, end of stage 2: the bundles its neighbours sealed for it. */
export type SecAggShares = z.infer<typeof SecAggSharesSchema>;
/** Client → server, stage 3: its masked, weighted, quantized update packed at `bits` bits. */
export type SecAggMaskedInput = z.infer<typeof SecAggMaskedInputSchema>;
/** Server → each client that sent a masked input, end of stage 3: which of its neighbours survived. */
export type SecAggUnmaskRequest = z.infer<typeof SecAggUnmaskRequestSchema>;
/** Client → server, stage 4: shares of survivors' self-mask seeds and of dropped clients' masking keys. */
export type SecAggUnmask = z.infer<typeof SecAggUnmaskSchema>;

export type SecAggConsistencyRequest = z.infer<typeof SecAggConsistencyRequestSchema>;
export type SecAggConsistency = z.infer<typeof SecAggConsistencySchema>;

export type SecAggServerMessage =
  | SecAggSetup
  | SecAggKeys
  | SecAggShares
  | SecAggConsistencyRequest
  | SecAggUnmaskRequest;
export type SecAggClientMessage =
  | SecAggAdvertiseKeys
  | SecAggShareKeys
  | SecAggMaskedInput
  | SecAggConsistency
  | SecAggUnmask;

export const SecAggClientMessageSchema = z.discriminatedUnion('type', [
  SecAggAdvertiseKeysSchema,
  SecAggShareKeysSchema,
  SecAggMaskedInputSchema,
  SecAggConsistencySchema,
  SecAggUnmaskSchema,
]);

export const SecAggServerMessageSchema = z.discriminatedUnion('type', [
  SecAggSetupSchema,
  SecAggKeysSchema,
  SecAggSharesSchema,
  SecAggConsistencyRequestSchema,
  SecAggUnmaskRequestSchema,
]);

/** Parses `value` or throws MALFORMED_MESSAGE naming `from`. */
export function parseSecAggMessage<T>(schema: z.ZodType<T>, value: unknown, from?: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw secaggError(
      'MALFORMED_MESSAGE',
      `malformed secure aggregation message: ${parsed.error.message}`,
      from,
    );
  }
  return parsed.data;
}

/** Refuses a message for another round (STALE_ROUND) or another stage (SECAGG_WRONG_STAGE). */
export function expectStage(
  message: { type: string; round: number },
  expected: { type: string; round: number },
  from?: string,
): void {
  if (message.round !== expected.round) {
    throw secaggError(
      'STALE_ROUND',
      `message for round ${message.round}, this is round ${expected.round}`,
      from,
      {
        round: message.round,
        expectedRound: expected.round,
      },
    );
  }
  if (message.type !== expected.type) {
    throw secaggError('SECAGG_WRONG_STAGE', `got ${message.type} while expecting ${expected.type}`, from, {
      type: message.type,
      expected: expected.type,
    });
  }
}

/**
 * Bytes a message takes on the wire when binary fields travel as raw attachments (as socket.io
 * sends them) and the rest as JSON with a small placeholder per attachment.
 */
export function secaggMessageBytes(message: unknown): number {
  let binary = 0;
  const json = JSON.stringify(message, (_key, value) => {
    if (value instanceof Uint8Array) {
      binary += value.byteLength;
      return { _placeholder: true, num: 0 };
    }
    return value;
  });
  return binary + new TextEncoder().encode(json).length;
}
