import type { RandomBytes } from '../random.js';
import { secaggError } from './errors.js';
import {
  agree,
  bytesEqual,
  commitSeed,
  deriveKey,
  generateKeyPair,
  KEY_BYTES,
  type KeyPair,
  open,
  seal,
} from './keys.js';
import {
  expectStage,
  parseSecAggMessage,
  type SecAggAdvertiseKeys,
  type SecAggClientMessage,
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
import { addMask } from './prg.js';
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

type ClientStage = 'advertise-keys' | 'share-keys' | 'masked-input' | 'unmask' | 'done';
const EXPECTED: Record<Exclude<ClientStage, 'advertise-keys' | 'done'>, string> = {
  'share-keys': 'secagg/keys',
  'masked-input': 'secagg/shares',
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
  private stage: ClientStage = 'advertise-keys';
  private encKeys: KeyPair | undefined;
  private maskKeys: KeyPair | undefined;
  private selfSeed: Uint8Array | undefined;
  private readonly pairMaskSeeds = new Map<string, Uint8Array>();
  private readonly pairKeys = new Map<string, Uint8Array>();
  private readonly held = new Map<string, { seed: Uint8Array; key: Uint8Array }>();

  constructor(setup: SecAggSetup, clientId: string, options: { randomBytes: RandomBytes }) {
    this.session = openSession(parseSecAggMessage(SecAggSetupSchema, setup));
    if (!this.session.index.has(clientId)) {
      throw secaggError('NOT_SAMPLED', `${clientId} is not a participant of round ${setup.round}`, clientId);
    }
    this.clientId = clientId;
    this.randomBytes = options.randomBytes;
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
    return {
      type: 'secagg/advertise-keys',
      round: this.session.round,
      encPublicKey: this.encKeys.publicKey,
      maskPublicKey: this.maskKeys.publicKey,
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
    return this.unmask(m as SecAggUnmaskRequest);
  }

  private shareKeys(m: SecAggKeys): SecAggShareKeys {
    const { session } = this;
    const mine = new Set(session.neighbours.get(this.clientId));
    for (const entry of m.keys) {
      const from = entry.clientId;
      if (!mine.has(from) || this.pairKeys.has(from)) {
        throw secaggError('SECAGG_BAD_KEY', `keys of ${from} are not expected here`, from);
      }
      const distinct =
        entry.maskPublicKey.length === KEY_BYTES && !bytesEqual(entry.encPublicKey, entry.maskPublicKey);
      const shared = distinct ? agree((this.encKeys as KeyPair).secretKey, entry.encPublicKey) : undefined;
      const maskShared = distinct
        ? agree((this.maskKeys as KeyPair).secretKey, entry.maskPublicKey)
        : undefined;
      if (shared === undefined || maskShared === undefined) {
        throw secaggError('SECAGG_BAD_KEY', `public keys of ${from} are invalid`, from);
      }
      this.pairKeys.set(from, deriveKey(shared, session.context, 'share-encryption'));
      this.pairMaskSeeds.set(from, deriveKey(maskShared, session.context, 'pairwise-mask'));
    }
    const live = [...this.pairKeys.keys()];
    this.requireThreshold(live.length, 'live neighbours after key advertisement');
    const xs = live.map((id) => (session.index.get(id) as number) + 1);
    this.selfSeed = this.randomBytes(32);
    const t = session.params.threshold;
    const seedShares = splitSecret(this.selfSeed, t, xs, this.randomBytes);
    const keyShares = splitSecret((this.maskKeys as KeyPair).secretKey, t, xs, this.randomBytes);
    const me = session.index.get(this.clientId) as number;
    const shares = live.map((to, i) => {
      const bundle = new Uint8Array(BUNDLE_BYTES);
      bundle.set(seedShares[i] as Uint8Array, 0);
      bundle.set(keyShares[i] as Uint8Array, SHARE_BYTES);
      const aad = { context: session.context, from: me, to: session.index.get(to) as number };
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
      if (key === undefined || this.held.has(from)) {
        throw secaggError('SECAGG_BAD_SHARE', `unexpected share bundle from ${from}`, from);
      }
      const aad = { context: session.context, from: session.index.get(from) as number, to: me };
      const bundle = open(key, ciphertext, aad);
      if (bundle === undefined) {
        throw secaggError(
          'SECAGG_DECRYPTION_FAILED',
          `share bundle from ${from} failed authentication`,
          from,
        );
      }
      const seed = bundle.subarray(0, SHARE_BYTES);
      const maskKey = bundle.subarray(SHARE_BYTES);
      if (
        bundle.length !== BUNDLE_BYTES ||
        parseShare(seed) === undefined ||
        parseShare(maskKey) === undefined
      ) {
        throw secaggError('SECAGG_BAD_SHARE', `share bundle from ${from} is not two field elements`, from);
      }
      this.held.set(from, { seed, key: maskKey });
    }
    this.requireThreshold(this.held.size, 'neighbours that shared their keys');
    const p = session.params;
    const vector = quantizeWeighted(p, input.update, input.weight, input.noiseSeed ?? this.randomBytes(32));
    addMask(vector, deriveKey(this.selfSeed as Uint8Array, session.context, 'self-mask'), 1);
    for (const other of this.held.keys()) {
      addMask(vector, this.pairMaskSeeds.get(other) as Uint8Array, pairSign(session, this.clientId, other));
    }
    this.stage = 'unmask';
    return {
      type: 'secagg/masked-input',
      round: session.round,
      length: p.vectorLength,
      bits: p.ringBits,
      vector: packVector(vector, p.ringBits),
    };
  }

  private unmask(m: SecAggUnmaskRequest): SecAggUnmask {
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
  options: { randomBytes: RandomBytes },
): SecAggClient {
  return new SecAggClient(setup, clientId, options);
}
