import type { RandomBytes } from '../random.js';
import { type IdentityKey, keysStatement, sign, survivorsStatement } from './identity.js';
import {
  agree,
  commitSeed,
  deriveKey,
  generateKeyPair,
  type KeyPair,
  open,
  pairBinding,
  seal,
  sealedLength,
} from './keys.js';
import type {
  SecAggAdvertiseKeys,
  SecAggClientMessage,
  SecAggKeys,
  SecAggServerMessage,
  SecAggShares,
  SecAggUnmaskRequest,
} from './messages.js';
import { packVector } from './packing.js';
import { keystreamWords } from './prg.js';
import { BUNDLE_BYTES, type SecAggSession } from './session.js';
import { SHARE_BYTES, splitSecret } from './shamir.js';

/** Plaintext share bundles by owner, then holder: what stand-ins would have decrypted. */
export type ShareLedger = Map<string, Map<string, Uint8Array>>;

/**
 * A cheap stand-in for a client in large simulations (benchmarks with n = 1000). It follows the
 * protocol with real keys and real Shamir shares, so the server does all of its real work, but it
 * seals bundles only for real clients (others get random bytes of the right length, their plaintext
 * kept in a shared ledger) and uploads a uniformly random vector of the ring instead of a masked
 * update, which the server cannot tell apart. The final sum is then meaningless; only costs are.
 */
export class SecAggStandIn {
  private readonly encKeys: KeyPair;
  private readonly maskKeys: KeyPair;
  private readonly pairKeys = new Map<string, Uint8Array>();

  constructor(
    private readonly session: SecAggSession,
    readonly clientId: string,
    private readonly randomBytes: RandomBytes,
    private readonly real: ReadonlySet<string>,
    private readonly ledger: ShareLedger,
    private readonly identity?: IdentityKey,
  ) {
    this.encKeys = generateKeyPair(randomBytes);
    this.maskKeys = generateKeyPair(randomBytes);
  }

  advertiseKeys(): SecAggAdvertiseKeys {
    return {
      type: 'secagg/advertise-keys',
      round: this.session.round,
      encPublicKey: this.encKeys.publicKey,
      maskPublicKey: this.maskKeys.publicKey,
      ...(this.identity
        ? {
            signature: sign(
              this.identity,
              keysStatement(
                this.session.context,
                this.clientId,
                this.encKeys.publicKey,
                this.maskKeys.publicKey,
              ),
            ),
          }
        : {}),
    };
  }

  handle(message: SecAggServerMessage): SecAggClientMessage {
    if (message.type === 'secagg/keys') return this.shareKeys(message);
    if (message.type === 'secagg/shares') return this.maskInput(message);
    if (message.type === 'secagg/consistency-request') {
      const statement = survivorsStatement(this.session.context, message.survivors);
      const signature = sign(this.identity as IdentityKey, statement);
      return { type: 'secagg/consistency', round: this.session.round, signature };
    }
    return this.unmask(message as SecAggUnmaskRequest);
  }

  private index(id: string): number {
    return this.session.index.get(id) as number;
  }

  private shareKeys(m: SecAggKeys) {
    const { session } = this;
    for (const entry of m.keys) {
      if (!this.real.has(entry.clientId)) continue;
      const shared = agree(this.encKeys.secretKey, entry.encPublicKey) as Uint8Array;
      const binding = pairBinding(
        { id: this.clientId, index: this.index(this.clientId), publicKey: this.encKeys.publicKey },
        { id: entry.clientId, index: this.index(entry.clientId), publicKey: entry.encPublicKey },
      );
      this.pairKeys.set(entry.clientId, deriveKey(shared, session.context, 'share-encryption', binding));
    }
    const live = m.keys.map((k) => k.clientId);
    const xs = live.map((id) => this.index(id) + 1);
    const seed = this.randomBytes(32);
    const t = session.params.threshold;
    const seedShares = splitSecret(seed, t, xs, this.randomBytes);
    const keyShares = splitSecret(this.maskKeys.secretKey, t, xs, this.randomBytes);
    const mine = new Map<string, Uint8Array>();
    this.ledger.set(this.clientId, mine);
    const shares = live.map((to, i) => {
      const bundle = new Uint8Array(BUNDLE_BYTES);
      bundle.set(seedShares[i] as Uint8Array, 0);
      bundle.set(keyShares[i] as Uint8Array, SHARE_BYTES);
      mine.set(to, bundle);
      const key = this.pairKeys.get(to);
      const aad = { context: session.context, from: this.index(this.clientId), to: this.index(to) };
      const ciphertext =
        key === undefined
          ? this.randomBytes(sealedLength(BUNDLE_BYTES))
          : seal(key, bundle, aad, this.randomBytes);
      return { to, ciphertext };
    });
    return {
      type: 'secagg/share-keys' as const,
      round: session.round,
      seedCommitment: commitSeed(seed, session.context),
      shares,
    };
  }

  private maskInput(m: SecAggShares) {
    const { session } = this;
    for (const { from, ciphertext } of m.shares) {
      const key = this.pairKeys.get(from);
      if (key === undefined) continue;
      const aad = { context: session.context, from: this.index(from), to: this.index(this.clientId) };
      let held = this.ledger.get(from);
      if (held === undefined) this.ledger.set(from, (held = new Map()));
      held.set(this.clientId, open(key, ciphertext, aad) as Uint8Array);
    }
    const p = session.params;
    const vector = keystreamWords(this.randomBytes(32), p.vectorLength);
    return {
      type: 'secagg/masked-input' as const,
      round: session.round,
      length: p.vectorLength,
      bits: p.ringBits,
      vector: packVector(vector, p.ringBits),
    };
  }

  private unmask(m: SecAggUnmaskRequest) {
    const held = (owner: string) => this.ledger.get(owner)?.get(this.clientId) as Uint8Array;
    return {
      type: 'secagg/unmask' as const,
      round: this.session.round,
      seedShares: m.survivors.map((owner) => ({ owner, share: held(owner).subarray(0, SHARE_BYTES) })),
      keyShares: m.dropped.map((owner) => ({ owner, share: held(owner).subarray(SHARE_BYTES) })),
    };
  }
}
