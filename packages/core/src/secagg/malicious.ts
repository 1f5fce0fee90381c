import { secaggError } from './errors.js';
import {
  type IdentityKey,
  keysStatement,
  SIGNATURE_BYTES,
  sign,
  survivorsStatement,
  verify,
} from './identity.js';
import type { SecAggConsistencyRequest, SecAggUnmaskRequest } from './messages.js';
import type { SecAggSession } from './session.js';

/**
 * The client's checks of the malicious-server mode (Bonawitz et al. CCS'17 §6), kept apart from
 * the state machine so the browser client reuses them unchanged. Every failure throws before the
 * client reveals anything the check protects.
 */
export interface ClientIdentity {
  /** This client's Ed25519 identity key. */
  readonly identity: IdentityKey;
  /** Identity keys pinned out of band (enrollment); when given, the setup must agree with them. */
  readonly pinned?: ReadonlyMap<string, Uint8Array>;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The identity key to verify each participant with: the pinned one, which the setup must repeat. */
export function verificationKeys(
  session: SecAggSession,
  clientId: string,
  mine: ClientIdentity | undefined,
): ReadonlyMap<string, Uint8Array> {
  if (mine === undefined) {
    throw secaggError('SECAGG_POLICY_REFUSED', 'the malicious-server mode needs this client’s identity key');
  }
  const own = session.identities.get(clientId);
  if (own === undefined || !same(own, mine.identity.publicKey)) {
    throw secaggError(
      'SECAGG_BAD_SIGNATURE',
      'the setup does not carry this client’s identity key',
      clientId,
    );
  }
  const pinned = mine.pinned;
  if (pinned === undefined) return session.identities;
  for (const id of session.participants) {
    const key = pinned.get(id);
    if (key === undefined || !same(key, session.identities.get(id) as Uint8Array)) {
      throw secaggError('SECAGG_BAD_SIGNATURE', `identity key of ${id} is not the enrolled one`, id);
    }
  }
  return pinned;
}

export function signKeys(
  session: SecAggSession,
  clientId: string,
  mine: ClientIdentity,
  enc: Uint8Array,
  mask: Uint8Array,
): Uint8Array {
  return sign(mine.identity, keysStatement(session.context, clientId, enc, mask));
}

/** A neighbour's advertised keys must carry its own signature: a swapped key is refused here. */
export function checkKeysSigned(
  session: SecAggSession,
  keys: ReadonlyMap<string, Uint8Array>,
  entry: { clientId: string; encPublicKey: Uint8Array; maskPublicKey: Uint8Array; signature?: Uint8Array },
): void {
  const statement = keysStatement(session.context, entry.clientId, entry.encPublicKey, entry.maskPublicKey);
  const key = keys.get(entry.clientId);
  if (entry.signature === undefined || key === undefined || !verify(key, entry.signature, statement)) {
    throw secaggError(
      'SECAGG_BAD_SIGNATURE',
      `keys of ${entry.clientId} are not signed by its identity key`,
      entry.clientId,
    );
  }
}

/** Bonawitz round 3: the survivor set must hold this client, only participants, and at least t. */
export function signSurvivors(
  session: SecAggSession,
  clientId: string,
  mine: ClientIdentity,
  m: SecAggConsistencyRequest,
): { survivors: Set<string>; signature: Uint8Array } {
  const survivors = new Set(m.survivors);
  if (
    survivors.size !== m.survivors.length ||
    !survivors.has(clientId) ||
    !m.survivors.every((id) => session.index.has(id))
  ) {
    throw secaggError('SECAGG_INCONSISTENT_VIEW', 'the survivor set is malformed', clientId);
  }
  if (survivors.size < session.params.threshold) {
    throw secaggError(
      'SECAGG_BELOW_THRESHOLD',
      `${survivors.size} survivors, threshold is ${session.params.threshold}`,
      clientId,
    );
  }
  return { survivors, signature: sign(mine.identity, survivorsStatement(session.context, m.survivors)) };
}

/**
 * Bonawitz round 4: at least t survivors signed the very set this client signed, and the request
 * splits this client's neighbours exactly by that set. Otherwise the coordinator told someone
 * else a different story, and no share goes out.
 */
export function checkUnmaskRequest(
  session: SecAggSession,
  clientId: string,
  keys: ReadonlyMap<string, Uint8Array>,
  survivors: ReadonlySet<string>,
  held: ReadonlySet<string>,
  m: SecAggUnmaskRequest,
): void {
  const statement = survivorsStatement(session.context, [...survivors]);
  const signers = new Set<string>();
  const t = session.params.threshold;
  for (const { clientId: signer, signature } of m.signatures ?? []) {
    // t valid signatures settle it: verifying all |U3| would cost O(n) per client.
    if (signers.size >= t) break;
    const key = keys.get(signer);
    if (
      survivors.has(signer) &&
      key !== undefined &&
      signature.length === SIGNATURE_BYTES &&
      verify(key, signature, statement)
    ) {
      signers.add(signer);
    }
  }
  if (signers.size < t) {
    throw secaggError(
      'SECAGG_INCONSISTENT_VIEW',
      `only ${signers.size} valid signatures over this client’s survivor set, threshold is ${t}`,
      clientId,
      { signatures: signers.size, threshold: t },
    );
  }
  const expectSurvivors = [...held].filter((id) => survivors.has(id)).sort();
  const expectDropped = [...held].filter((id) => !survivors.has(id)).sort();
  if (
    JSON.stringify([...m.survivors].sort()) !== JSON.stringify(expectSurvivors) ||
    JSON.stringify([...m.dropped].sort()) !== JSON.stringify(expectDropped)
  ) {
    throw secaggError(
      'SECAGG_INCONSISTENT_VIEW',
      'the unmask request contradicts the signed survivor set',
      clientId,
    );
  }
}
