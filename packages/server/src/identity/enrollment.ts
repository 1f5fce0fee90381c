import { type Clock, clientIdSchema, FedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import { type ClientEnrollment, describeIssues } from '../store/records.js';
import { credentialMatches, issueCredential } from './credentials.js';

const base64Key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key: base64 of 32 bytes');
const hexKey = z.string().regex(/^[0-9a-fA-F]{64}$/, 'an Ed25519 public key: 64 hex digits');

export const enrollRequestSchema = z
  .object({
    clientId: clientIdSchema,
    /** The client's Ed25519 identity public key (base64 or hex). Its secret never leaves the client. */
    identityPublicKey: z.union([base64Key, hexKey]),
  })
  .strict();
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

/** What a hello's proof of identity came to. */
export type HelloVerdict = { ok: true } | { ok: false; error: FedlearnError };

/**
 * Who may connect: each enrolled client's credential hash, identity key and revocation, kept in
 * memory for the hello path and written through to the coordinator store when one is given (so
 * enrollments and revocations survive a restart).
 *
 * @example
 * const enrollments = await ClientEnrollments.open({ store, clock });
 * const { credential } = await enrollments.enroll({ clientId: 'edge-1', identityPublicKey });
 * enrollments.verify('edge-1', credential); // { ok: true }
 */
export class ClientEnrollments {
  private readonly records = new Map<string, ClientEnrollment>();
  /** Ids being enrolled right now: a concurrent duplicate is refused, never issued a second credential. */
  private readonly enrolling = new Set<string>();
  private readonly revokedListeners = new Set<(clientId: string) => void>();

  private constructor(
    private readonly store: CoordinatorStore | undefined,
    private readonly clock: Clock,
  ) {}

  static async open(options: { store?: CoordinatorStore; clock: Clock }): Promise<ClientEnrollments> {
    const enrollments = new ClientEnrollments(options.store, options.clock);
    for (const record of (await options.store?.listClients()) ?? [])
      enrollments.records.set(record.id, record);
    return enrollments;
  }

  /** Enrolls a client; returns its credential, which is shown this once and stored only as a hash. */
  async enroll(input: unknown): Promise<{ enrollment: ClientEnrollment; credential: string }> {
    const parsed = enrollRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new FedlearnError('INVALID_ARGUMENT', `invalid enrollment: ${describeIssues(parsed.error)}`);
    }
    const { clientId, identityPublicKey } = parsed.data;
    if (this.records.has(clientId) || this.enrolling.has(clientId)) {
      throw new FedlearnError('DUPLICATE_CLIENT', `client ${clientId} is enrolled already (revoked or not)`);
    }
    const { credential, secretHash } = issueCredential();
    const key =
      identityPublicKey.length === 64
        ? Buffer.from(identityPublicKey, 'hex').toString('base64')
        : identityPublicKey;
    const fresh = { id: clientId, identityPublicKey: key, secretHash };
    this.enrolling.add(clientId);
    try {
      const enrollment = this.store
        ? await this.store.enrollClient(fresh)
        : { ...fresh, createdAt: new Date(this.clock.now()).toISOString() };
      this.records.set(clientId, enrollment);
      return { enrollment, credential };
    } finally {
      this.enrolling.delete(clientId);
    }
  }

  /** Revokes a client and tells the listeners (the coordinator cuts it off). Idempotent. */
  async revoke(clientId: string): Promise<ClientEnrollment> {
    const current = this.records.get(clientId);
    if (!current) throw new FedlearnError('CLIENT_NOT_ENROLLED', 'no client with this id is enrolled');
    const revoked = this.store
      ? await this.store.revokeClient(clientId)
      : { ...current, revokedAt: current.revokedAt ?? new Date(this.clock.now()).toISOString() };
    this.records.set(clientId, revoked);
    for (const listener of this.revokedListeners) listener(clientId);
    return revoked;
  }

  /** Calls `listener` with each revoked client id; returns the unsubscribe function. */
  onRevoked(listener: (clientId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  get(clientId: string): ClientEnrollment | undefined {
    return this.records.get(clientId);
  }

  list(): ClientEnrollment[] {
    return [...this.records.values()];
  }

  /**
   * Checks a hello's credential for `clientId`. An unknown id and a wrong credential get the same
   * answer, so a caller cannot learn which ids are enrolled; only the holder of the right
   * credential learns that it was revoked.
   */
  verify(clientId: string, credential: unknown): HelloVerdict {
    const record = this.records.get(clientId);
    if (!record || !credentialMatches(record.secretHash, credential)) {
      return {
        ok: false,
        error: new FedlearnError(
          'UNAUTHORIZED',
          'missing or wrong client credential: enroll this client and pass its credential',
        ),
      };
    }
    if (record.revokedAt) {
      return { ok: false, error: new FedlearnError('CLIENT_REVOKED', `client ${clientId} was revoked`) };
    }
    return { ok: true };
  }

  /** Identity keys (hex) of the clients that are enrolled and not revoked: the malicious mode's pins. */
  identityKeysHex(): Record<string, string> {
    const keys: Record<string, string> = {};
    for (const record of this.records.values()) {
      if (!record.revokedAt)
        keys[record.id] = Buffer.from(record.identityPublicKey, 'base64').toString('hex');
    }
    return keys;
  }
}

/** An enrollment as the API shows it: never the credential's hash. */
export function enrollmentView(record: ClientEnrollment) {
  return {
    clientId: record.id,
    identityPublicKey: record.identityPublicKey,
    createdAt: record.createdAt,
    revoked: record.revokedAt !== undefined,
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
  };
}
