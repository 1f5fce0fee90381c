import type { RandomBytes } from '../random.js';
import { secaggError } from './errors.js';
import {
  agree,
  canonicalKey,
  commitSeed,
  deriveKey,
  generateKeyPair,
  KEY_BYTES,
  type KeyPair,
  open,
  pairBinding,
  seal,
} from './keys.js';
import {
  type ClientIdentity,
  checkKeysSigned,
  checkUnmaskRequest,
  signKeys,
  signSurvivors,
  verificationKeys,
} from './malicious.js';
import {
  expectStage,
  parseSecAggMessage,
  type SecAggAdvertiseKeys,
  type SecAggClientMessage,
  type SecAggConsistency,
  type SecAggConsistencyRequest,
  type SecAggKeys,
  type SecAggMaskedInput,
  SecAggServerMessageSchema,
  type SecAggSetup,
  SecAggSetupSchema,
  type SecAggShareKeys,
  type SecAggShares,
  type SecAggUnmask,
  type SecAggUnmaskRequest,
} from './messages.js';
import { packVector } from './packing.js';
import { checkSecAggPolicy, type SecAggPolicy } from './policy.js';
import { applyMasks, type Keystream, type MaskJob, portableKeystream } from './prg.js';
import { quantizeWeighted } from './quantize.js';
import { BUNDLE_BYTES, openSession, pairSign, type SecAggSession } from './session.js';
import { parseShare, SHARE_BYTES, splitSecret } from './shamir.js';

/** The client's local update, given at the masking stage. `weight` is an integer in [0, maxWeight]. */
export interface SecAggInput {
  readonly update: Float32Array | Float64Array;
  readonly weight: number;
  /** Seed of the stochastic-rounding noise; drawn from `randomBytes` when absent (set it only to replay). */
  readonly noiseSeed?: Uint8Array;
}

export interface SecAggClientOptions {
  readonly randomBytes: RandomBytes;
  /** Checked against the setup before any key goes out (see `checkSecAggPolicy`). */
  readonly policy?: SecAggPolicy;
  /** This client's identity key (and the pinned keys of the others): needed in the malicious-server mode. */
  readonly identity?: ClientIdentity;
  /** Mask expansion; the portable ChaCha20 by default (Node clients inject the native one). */
  readonly keystream?: Keystream;
}

type ClientStage = 'advertise-keys' | 'share-keys' | 'masked-input' | 'consistency' | 'unmask' | 'done';
const EXPECTED: Record<Exclude<ClientStage, 'advertise-keys' | 'done'>, string> = {
  'share-keys': 'secagg/keys',
  'masked-input': 'secagg/shares',
  consistency: 'secagg/consistency-request',
  unmask: 'secagg/unmask-request',
};

/**
 * The client side of SecAgg+ as a state machine: `advertiseKeys()` first, then one `handle()` per
 * message from the server, each returning the message to send back.
 *
 * @example
 * const client = createSecAggClient(setup, 'alice', { randomBytes: cryptoRandomBytes });
 * send(client.advertiseKeys());
 * onMessage((m) => send(client.handle(m, m.type === 'secagg/shares' ? { update, weight } : undefined)));
 */
export class SecAggClient {
  readonly clientId: string;
  readonly session: SecAggSession;
  private readonly randomBytes: RandomBytes;
  private readonly keystream: Keystream;
  private stage: ClientStage = 'advertise-keys';
  private encKeys: KeyPair | undefined;
  private maskKeys: KeyPair | undefined;
  private selfSeed: Uint8Array | undefined;
  private readonly pairMaskSeeds = new Map<string, Uint8Array>();
  private readonly pairKeys = new Map<string, Uint8Array>();
  private readonly held = new Map<string, { seed: Uint8Array; key: Uint8Array }>();
  private readonly maskedWith = new Set<string>();
  private readonly refused: string[] = [];
  private readonly identity: ClientIdentity | undefined;
  /** Malicious mode: the identity key each participant's signatures are checked with. */
  private readonly verifyKeys: ReadonlyMap<string, Uint8Array> | undefined;
  /** Malicious mode: the survivor set this client signed. */
  private signedSurvivors: Set<string> | undefined;

  constructor(setup: SecAggSetup, clientId: string, options: SecAggClientOptions) {
    this.session = openSession(parseSecAggMessage(SecAggSetupSchema, setup));
    if (!this.session.index.has(clientId)) {
      throw secaggError('NOT_SAMPLED', `${clientId} is not a participant of round ${setup.round}`, clientId);
    }
    checkSecAggPolicy(options.policy, this.session.params, this.session.mode);
    this.clientId = clientId;
    this.randomBytes = options.randomBytes;
    this.keystream = options.keystream ?? portableKeystream;
    this.identity = options.identity;
    if (this.session.mode === 'malicious') {
      this.verifyKeys = verificationKeys(this.session, clientId, options.identity);
    }
  }

  /** The stage whose server message this client waits for next. */
  get currentStage(): ClientStage {
    return this.stage;
  }

  /** Stage 1: fresh X25519 keys for share encryption and for masking. */
  advertiseKeys(): SecAggAdvertiseKeys {
    if (this.stage !== 'advertise-keys') {
      throw secaggError('SECAGG_WRONG_STAGE', 'keys were already advertised', this.clientId);
    }
    this.encKeys = generateKeyPair(this.randomBytes);
    this.maskKeys = generateKeyPair(this.randomBytes);
    this.stage = 'share-keys';
    const { publicKey: enc } = this.encKeys;
    const { publicKey: mask } = this.maskKeys;
    return {
      type: 'secagg/advertise-keys',
      round: this.session.round,
      encPublicKey: enc,
      maskPublicKey: mask,
      ...(this.identity && this.verifyKeys
        ? { signature: signKeys(this.session, this.clientId, this.identity, enc, mask) }
        : {}),
    };
  }

  /** Answers one server message; the masking stage (`secagg/shares`) needs `input`. */
  handle(message: unknown, input?: SecAggInput): SecAggClientMessage {
    const m = parseSecAggMessage(SecAggServerMessageSchema, message);
    if (this.stage === 'advertise-keys' || this.stage === 'done') {
      throw secaggError('SECAGG_WRONG_STAGE', `got ${m.type} at stage ${this.stage}`, this.clientId);
    }
    expectStage(m, { type: EXPECTED[this.stage], round: this.session.round });
    if (m.type === 'secagg/keys') return this.shareKeys(m);
    if (m.type === 'secagg/shares') {
      if (input === undefined) {
        throw secaggError('INVALID_ARGUMENT', 'the masking stage needs the update and weight', this.clientId);
      }
      return this.maskInput(m, input);
    }
    if (m.type === 'secagg/consistency-request') return this.signSurvivorSet(m);
    return this.unmask(m as SecAggUnmaskRequest);
  }

  private shareKeys(m: SecAggKeys): SecAggShareKeys {
    const { session } = this;
    const mine = new Set(session.neighbours.get(this.clientId));
    const enc = this.encKeys as KeyPair;
    const mask = this.maskKeys as KeyPair;
    // A copied key (in any encoding) cancels a pairwise mask: every key must be distinct from all others.
    const seen = new Set([canonicalKey(enc.publicKey), canonicalKey(mask.publicKey)]);
    const me = { id: this.clientId, index: session.index.get(this.clientId) as number };
    for (const entry of m.keys) {
      const from = entry.clientId;
      if (!mine.has(from) || this.pairKeys.has(from)) {
        throw secaggError('SECAGG_BAD_KEY', `keys of ${from} are not expected here`, from);
      }
      if (this.verifyKeys) checkKeysSigned(session, this.verifyKeys, entry);
      for (const key of [entry.encPublicKey, entry.maskPublicKey]) {
        const canonical = canonicalKey(key);
        if (key.length !== KEY_BYTES || seen.has(canonical)) {
          throw secaggError('SECAGG_BAD_KEY', `${from} advertised a key that is not its own`, from);
        }
        seen.add(canonical);
      }
      const shared = agree(enc.secretKey, entry.encPublicKey);
      const maskShared = agree(mask.secretKey, entry.maskPublicKey);
      if (shared === undefined || maskShared === undefined) {
        throw secaggError('SECAGG_BAD_KEY', `public keys of ${from} are invalid`, from);
      }
      const them = { id: from, index: session.index.get(from) as number };
      const encBinding = pairBinding(
        { ...me, publicKey: enc.publicKey },
        { ...them, publicKey: entry.encPublicKey },
      );
      const maskBinding = pairBinding(
        { ...me, publicKey: mask.publicKey },
        { ...them, publicKey: entry.maskPublicKey },
      );
      this.pairKeys.set(from, deriveKey(shared, session.context, 'share-encryption', encBinding));
      this.pairMaskSeeds.set(from, deriveKey(maskShared, session.context, 'pairwise-mask', maskBinding));
    }
    const live = [...this.pairKeys.keys()];
    this.requireThreshold(live.length, 'live neighbours after key advertisement');
    const xs = live.map((id) => (session.index.get(id) as number) + 1);
    this.selfSeed = this.randomBytes(32);
    const t = session.params.threshold;
    const seedShares = splitSecret(this.selfSeed, t, xs, this.randomBytes);
    const keyShares = splitSecret(mask.secretKey, t, xs, this.randomBytes);
    const shares = live.map((to, i) => {
      const bundle = new Uint8Array(BUNDLE_BYTES);
      bundle.set(seedShares[i] as Uint8Array, 0);
      bundle.set(keyShares[i] as Uint8Array, SHARE_BYTES);
      const aad = { context: session.context, from: me.index, to: session.index.get(to) as number };
      return { to, ciphertext: seal(this.pairKeys.get(to) as Uint8Array, bundle, aad, this.randomBytes) };
    });
    this.stage = 'masked-input';
    return {
      type: 'secagg/share-keys',
      round: session.round,
      seedCommitment: commitSeed(this.selfSeed, session.context),
      shares,
    };
  }

  private maskInput(m: SecAggShares, input: SecAggInput): SecAggMaskedInput {
    const { session } = this;
    const me = session.index.get(this.clientId) as number;
    for (const { from, ciphertext } of m.shares) {
      const key = this.pairKeys.get(from);
      if (key === undefined || this.maskedWith.has(from)) {
        throw secaggError('SECAGG_BAD_SHARE', `unexpected share bundle from ${from}`, from);
      }
      // Its pairwise mask is in its own vector whatever its bundle holds: ours must cancel it.
      this.maskedWith.add(from);
      const aad = { context: session.context, from: session.index.get(from) as number, to: me };
      const bundle = open(key, ciphertext, aad);
      const seed = bundle?.subarray(0, SHARE_BYTES);
      const maskKey = bundle?.subarray(SHARE_BYTES);
      if (
        bundle?.length !== BUNDLE_BYTES ||
        parseShare(seed as Uint8Array) === undefined ||
        parseShare(maskKey as Uint8Array) === undefined
      ) {
        // A forged bundle costs only the sender's own recoverability: report it and go on.
        this.refused.push(from);
        continue;
      }
      this.held.set(from, { seed: seed as Uint8Array, key: maskKey as Uint8Array });
    }
    this.requireThreshold(this.maskedWith.size, 'neighbours that shared their keys');
    const p = session.params;
    const keystream = this.keystream;
    const noiseSeed = input.noiseSeed ?? this.randomBytes(32);
    const vector = quantizeWeighted(p, input.update, input.weight, noiseSeed, keystream);
    const jobs: MaskJob[] = [
      { seed: deriveKey(this.selfSeed as Uint8Array, session.context, 'self-mask'), sign: 1 },
    ];
    for (const other of this.maskedWith) {
      jobs.push({
        seed: this.pairMaskSeeds.get(other) as Uint8Array,
        sign: pairSign(session, this.clientId, other),
      });
    }
    applyMasks(keystream, vector, jobs);
    this.stage = this.verifyKeys ? 'consistency' : 'unmask';
    return {
      type: 'secagg/masked-input',
      round: session.round,
      length: p.vectorLength,
      bits: p.ringBits,
      vector: packVector(vector, p.ringBits),
      ...(this.refused.length > 0 ? { refusedShares: [...this.refused] } : {}),
    };
  }

  private signSurvivorSet(m: SecAggConsistencyRequest): SecAggConsistency {
    const { survivors, signature } = signSurvivors(
      this.session,
      this.clientId,
      this.identity as ClientIdentity,
      m,
    );
    this.signedSurvivors = survivors;
    this.stage = 'unmask';
    return { type: 'secagg/consistency', round: this.session.round, signature };
  }

  private unmask(m: SecAggUnmaskRequest): SecAggUnmask {
    if (this.verifyKeys) {
      const held = new Set(this.held.keys());
      const survivors = this.signedSurvivors as Set<string>;
      checkUnmaskRequest(this.session, this.clientId, this.verifyKeys, survivors, held, m);
    }
    const seen = new Set<string>();
    for (const id of [...m.survivors, ...m.dropped]) {
      // Each neighbour is either alive or dropped, never both: otherwise the server could unmask it.
      if (!this.held.has(id) || seen.has(id)) {
        throw secaggError('MALFORMED_MESSAGE', `unmask request lists ${id} wrongly`, this.clientId, {
          listed: id,
        });
      }
      seen.add(id);
    }
    if (seen.size !== this.held.size) {
      throw secaggError(
        'MALFORMED_MESSAGE',
        'unmask request does not account for every neighbour',
        this.clientId,
      );
    }
    // Bonawitz et al., round 4: with fewer than t survivors the answers could expose a single input.
    this.requireThreshold(m.survivors.length + 1, 'survivors listed (with this client)');
    this.stage = 'done';
    return {
      type: 'secagg/unmask',
      round: this.session.round,
      seedShares: m.survivors.map((owner) => ({ owner, share: this.held.get(owner)?.seed as Uint8Array })),
      keyShares: m.dropped.map((owner) => ({ owner, share: this.held.get(owner)?.key as Uint8Array })),
    };
  }

  private requireThreshold(count: number, what: string): void {
    const t = this.session.params.threshold;
    if (count < t) {
      throw secaggError('SECAGG_BELOW_THRESHOLD', `${count} ${what}, threshold is ${t}`, this.clientId, {
        count,
        threshold: t,
      });
    }
  }
}

/** Creates the client side of one secure-aggregation round from the server's setup message. */
export function createSecAggClient(
  setup: SecAggSetup,
  clientId: string,
  options: SecAggClientOptions,
): SecAggClient {
  return new SecAggClient(setup, clientId, options);
}
