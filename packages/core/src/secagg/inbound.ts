import type { SecAggParams } from './config.js';
import { secaggError } from './errors.js';
import { keysStatement, survivorsStatement, verify } from './identity.js';
import { canonicalKey, isValidPublicKey, sealedLength } from './keys.js';
import type { SecAggAdvertiseKeys, SecAggMaskedInput } from './messages.js';
import { unpackVector } from './packing.js';
import type { HeldShare } from './recovery.js';
import { BUNDLE_BYTES, type SecAggSession } from './session.js';
import { parseShare } from './shamir.js';

/** The server's checks on each client message, beyond its schema. Each throws naming the sender. */

/**
 * Valid X25519 keys, distinct from each other and from every key advertised before this round (in
 * canonical form, so a second encoding of a point is a copy too); `taken` maps each to its owner.
 */
export function checkAdvertisedKeys(from: string, m: SecAggAdvertiseKeys, taken: Map<string, string>): void {
  if (!isValidPublicKey(m.encPublicKey) || !isValidPublicKey(m.maskPublicKey)) {
    throw secaggError('SECAGG_BAD_KEY', `${from} sent an invalid public key`, from);
  }
  const enc = canonicalKey(m.encPublicKey);
  const mask = canonicalKey(m.maskPublicKey);
  if (enc === mask) {
    throw secaggError('SECAGG_BAD_KEY', `${from} used one key for both purposes`, from);
  }
  if (taken.has(enc) || taken.has(mask)) {
    // A copied masking key cancels a neighbour's pairwise masks: the copy is refused, not the original.
    throw secaggError('SECAGG_BAD_KEY', `${from} advertised a key another participant already uses`, from);
  }
  taken.set(enc, from);
  taken.set(mask, from);
}

/** The neighbours a client says sent it a bad share bundle: each a live neighbour, listed once. */
export function checkRefusedShares(from: string, m: SecAggMaskedInput, liveNeighbours: readonly string[]) {
  const refused = m.refusedShares ?? [];
  if (new Set(refused).size !== refused.length || !refused.every((id) => liveNeighbours.includes(id))) {
    throw secaggError('SECAGG_BAD_SHARE', `${from} reported bad bundles from non-neighbours`, from);
  }
  return refused;
}

/** One sealed bundle of the right size for each live neighbour, and a 32-byte seed commitment. */
export function checkShareBundles(
  from: string,
  commitment: Uint8Array,
  shares: readonly { to: string; ciphertext: Uint8Array }[],
  liveNeighbours: readonly string[],
): Map<string, Uint8Array> {
  const got = new Map<string, Uint8Array>();
  for (const { to, ciphertext } of shares) {
    if (!liveNeighbours.includes(to) || got.has(to) || ciphertext.length !== sealedLength(BUNDLE_BYTES)) {
      throw secaggError('SECAGG_BAD_SHARE', `${from} sent a bad share bundle for ${to}`, from, { to });
    }
    got.set(to, ciphertext.slice());
  }
  if (got.size !== liveNeighbours.length || commitment.length !== 32) {
    throw secaggError(
      'SECAGG_BAD_SHARE',
      `${from} must send one bundle to each of its ${liveNeighbours.length} live neighbours and a seed commitment`,
      from,
    );
  }
  return got;
}

/** The masked vector as values of Z_(2^b), of exactly the configured length. */
export function checkMaskedInput(from: string, m: SecAggMaskedInput, params: SecAggParams): Uint32Array {
  const values =
    m.length === params.vectorLength && m.bits === params.ringBits
      ? unpackVector(m.vector, m.length, m.bits)
      : undefined;
  if (values === undefined) {
    throw secaggError(
      'SECAGG_BAD_VECTOR',
      `${from} sent a vector that is not in Z_(2^${params.ringBits})^${params.vectorLength}`,
      from,
      { length: m.length, bits: m.bits, bytes: m.vector.length },
    );
  }
  return values;
}

/** Shares for exactly the owners asked for, each a field element; tagged with the holder's x. */
export function checkUnmaskShares(
  holder: string,
  x: number,
  list: readonly { owner: string; share: Uint8Array }[],
  owners: readonly string[],
): { owner: string; share: HeldShare }[] {
  const listed = list.map((s) => s.owner);
  if (
    listed.length !== owners.length ||
    new Set(listed).size !== listed.length ||
    !listed.every((o) => owners.includes(o))
  ) {
    throw secaggError('SECAGG_BAD_SHARE', `${holder} answered for the wrong clients`, holder);
  }
  return list.map(({ owner, share }) => {
    const y = parseShare(share);
    if (y === undefined) {
      throw secaggError('SECAGG_BAD_SHARE', `${holder} sent a malformed share of ${owner}`, holder, {
        owner,
      });
    }
    return { owner, share: { holder, x, y } };
  });
}

/** Malicious mode: the advertised keys carry the sender's signature under its enrolled identity key. */
export function checkKeysSignature(session: SecAggSession, from: string, m: SecAggAdvertiseKeys): void {
  const key = session.identities.get(from);
  const statement = keysStatement(session.context, from, m.encPublicKey, m.maskPublicKey);
  if (m.signature === undefined || key === undefined || !verify(key, m.signature, statement)) {
    throw secaggError('SECAGG_BAD_SIGNATURE', `${from} did not sign its keys with its identity key`, from);
  }
}

/** Malicious mode: the sender signed exactly the survivor set it was sent. */
export function checkSurvivorSignature(
  session: SecAggSession,
  from: string,
  survivors: readonly string[],
  signature: Uint8Array,
): void {
  const key = session.identities.get(from) as Uint8Array;
  if (!verify(key, signature, survivorsStatement(session.context, survivors))) {
    throw secaggError('SECAGG_BAD_SIGNATURE', `${from} did not sign the survivor set`, from);
  }
}
