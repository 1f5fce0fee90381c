import { type FedlearnError, toFedlearnError } from '../errors.js';
import type { RandomBytes } from '../random.js';
import { explicitConfig, resolveSecAggParams, type SecAggParams } from './config.js';
import { secaggError } from './errors.js';
import {
  checkAdvertisedKeys,
  checkKeysSignature,
  checkMaskedInput,
  checkRefusedShares,
  checkShareBundles,
  checkSurvivorSignature,
  checkUnmaskShares,
} from './inbound.js';
import type { X25519 } from './keys.js';
import {
  expectStage,
  parseSecAggMessage,
  SecAggClientMessageSchema,
  type SecAggServerMessage,
  type SecAggSetup,
} from './messages.js';
import type { Keystream } from './prg.js';
import { checkSumInRange, dequantizeSum } from './quantize.js';
import type { HeldShare } from './recovery.js';
import type { SecAggResult, SecAggServerStep, SecAggStage } from './round-types.js';
import { GRAPH_SEED_BYTES, openSession, type SecAggMode, type SecAggSession } from './session.js';
import { unmaskSum } from './unmasking.js';

const EXPECTED: Record<string, string> = {
  'advertise-keys': 'secagg/advertise-keys',
  'share-keys': 'secagg/share-keys',
  'masked-input': 'secagg/masked-input',
  consistency: 'secagg/consistency',
  unmask: 'secagg/unmask',
};

/**
 * The server side of SecAgg+ as a state machine with no I/O and no timers. The coordinator sends the
 * messages of each `send` step, feeds every client message to `handle()`, and calls `closeStage()`
 * when a stage's deadline passes; a stage also closes by itself once every expected client answered.
 * The server only ever holds masked inputs folded into one running sum, and the final sum.
 *
 * @example
 * const round = createSecAggServerRound(config, ids, { round: 7, randomBytes: cryptoRandomBytes });
 * route(round.start());
 * socket.on('secagg', (id, m) => route(round.handle(id, m)));
 * onDeadline(() => route(round.closeStage()));
 */
export class SecAggServerRound {
  readonly session: SecAggSession;
  readonly setup: SecAggSetup;
  private stage: SecAggStage = 'advertise-keys';
  private expected: Set<string>;
  private readonly answered = new Set<string>();
  private readonly encPublicKeys = new Map<string, Uint8Array>();
  private readonly maskPublicKeys = new Map<string, Uint8Array>();
  private readonly keyOwners = new Map<string, string>();
  private readonly keySignatures = new Map<string, Uint8Array>();
  private readonly survivorSignatures = new Map<string, Uint8Array>();
  /** Per holder, the neighbours whose bundle it could not open: it holds no share of theirs. */
  private readonly refusedShares = new Map<string, Set<string>>();
  private readonly faults: FedlearnError[] = [];
  private readonly seedCommitments = new Map<string, Uint8Array>();
  private readonly bundles = new Map<string, Map<string, Uint8Array>>();
  private readonly seedShares = new Map<string, HeldShare[]>();
  private readonly keyShares = new Map<string, HeldShare[]>();
  private maskedSum: Uint32Array;
  private shared = new Set<string>();
  private survivors = new Set<string>();
  private outcome: SecAggServerStep | undefined;

  private readonly x25519: X25519 | undefined;
  private readonly keystream: Keystream | undefined;

  constructor(setup: SecAggSetup, options: { x25519?: X25519; keystream?: Keystream } = {}) {
    this.setup = setup;
    this.x25519 = options.x25519;
    this.keystream = options.keystream;
    this.session = openSession(setup);
    this.expected = new Set(setup.participants);
    this.maskedSum = new Uint32Array(this.session.params.vectorLength);
  }

  get params(): SecAggParams {
    return this.session.params;
  }

  get currentStage(): SecAggStage {
    return this.stage;
  }

  /** Stage 0: the setup message, the same for every participant. */
  start(): SecAggServerStep {
    return {
      kind: 'send',
      stage: this.stage,
      messages: this.session.participants.map((to) => ({ to, message: this.setup })),
    };
  }

  /**
   * Takes one client message. Throws a typed error naming the client for anything invalid, and then
   * records nothing from it: a client whose message was refused counts as dropped at this stage.
   */
  handle(clientId: string, message: unknown): SecAggServerStep {
    if (!this.session.index.has(clientId)) {
      throw secaggError('UNKNOWN_CLIENT', `${clientId} is not a participant`, clientId);
    }
    const m = parseSecAggMessage(SecAggClientMessageSchema, message, clientId);
    const expectedType = EXPECTED[this.stage];
    if (expectedType === undefined) {
      throw secaggError('SECAGG_WRONG_STAGE', `round is ${this.stage}`, clientId, { type: m.type });
    }
    expectStage(m, { type: expectedType, round: this.session.round }, clientId);
    if (!this.expected.has(clientId) || this.answered.has(clientId)) {
      throw secaggError('SECAGG_WRONG_STAGE', `${clientId} is not expected at stage ${this.stage}`, clientId);
    }
    if (m.type === 'secagg/advertise-keys') {
      if (this.session.mode === 'malicious') checkKeysSignature(this.session, clientId, m);
      checkAdvertisedKeys(clientId, m, this.keyOwners);
      if (m.signature) this.keySignatures.set(clientId, m.signature.slice());
      this.encPublicKeys.set(clientId, m.encPublicKey.slice());
      this.maskPublicKeys.set(clientId, m.maskPublicKey.slice());
    } else if (m.type === 'secagg/share-keys') {
      const want = this.liveNeighbours(clientId, this.expected);
      this.bundles.set(clientId, checkShareBundles(clientId, m.seedCommitment, m.shares, want));
      this.seedCommitments.set(clientId, m.seedCommitment.slice());
    } else if (m.type === 'secagg/masked-input') {
      const values = checkMaskedInput(clientId, m, this.params);
      const refused = checkRefusedShares(clientId, m, this.liveNeighbours(clientId, this.shared));
      this.refusedShares.set(clientId, new Set(refused));
      for (const sender of refused) {
        const fault = `${clientId} could not open the share bundle of ${sender}`;
        this.faults.push(secaggError('SECAGG_DECRYPTION_FAILED', fault, sender, { holder: clientId }));
      }
      const sum = this.maskedSum;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (values[i] as number);
    } else if (m.type === 'secagg/consistency') {
      checkSurvivorSignature(this.session, clientId, [...this.survivors], m.signature);
      this.survivorSignatures.set(clientId, m.signature.slice());
    } else {
      this.takeUnmaskShares(clientId, m.seedShares, m.keyShares);
    }
    this.answered.add(clientId);
    return this.answered.size === this.expected.size
      ? this.closeStage()
      : { kind: 'pending', stage: this.stage };
  }

  /** Ends the current stage (its deadline passed): whoever has not answered is dropped. */
  closeStage(): SecAggServerStep {
    if (this.outcome !== undefined) return this.outcome;
    try {
      const step = this.advance();
      if (step.kind === 'done' || step.kind === 'aborted') this.outcome = step;
      return step;
    } catch (error) {
      return this.abort(toFedlearnError(error));
    }
  }

  /** The result of a finished round; throws the abort reason (or SECAGG_WRONG_STAGE) otherwise. */
  result(): SecAggResult {
    if (this.outcome?.kind === 'done') return this.outcome.result;
    if (this.outcome?.kind === 'aborted') throw this.outcome.error;
    throw secaggError('SECAGG_WRONG_STAGE', `round is still at stage ${this.stage}`);
  }

  private advance(): SecAggServerStep {
    const live = new Set(this.answered);
    this.answered.clear();
    if (this.stage === 'advertise-keys') {
      const u1 = this.prune(live);
      return this.next('share-keys', u1, (to) => ({
        type: 'secagg/keys',
        round: this.session.round,
        keys: this.liveNeighbours(to, u1).map((id) => ({
          clientId: id,
          encPublicKey: this.encPublicKeys.get(id) as Uint8Array,
          maskPublicKey: this.maskPublicKeys.get(id) as Uint8Array,
          ...(this.keySignatures.has(id) ? { signature: this.keySignatures.get(id) as Uint8Array } : {}),
        })),
      }));
    }
    if (this.stage === 'share-keys') {
      this.shared = this.prune(live);
      return this.next('masked-input', this.shared, (to) => ({
        type: 'secagg/shares',
        round: this.session.round,
        shares: this.liveNeighbours(to, this.shared).map((from) => ({
          from,
          ciphertext: this.bundles.get(from)?.get(to) as Uint8Array,
        })),
      }));
    }
    if (this.stage === 'masked-input') {
      this.survivors = live;
      this.bundles.clear();
      this.requireConnected(live);
      if (this.session.mode === 'malicious') {
        const survivors = this.session.participants.filter((id) => live.has(id));
        return this.next('consistency', live, () => ({
          type: 'secagg/consistency-request',
          round: this.session.round,
          survivors,
        }));
      }
      return this.requestUnmasking(live);
    }
    if (this.stage === 'consistency') {
      // Only clients that signed the survivor set are asked for shares (Bonawitz round 4).
      const signatures = [...this.survivorSignatures].map(([clientId, signature]) => ({
        clientId,
        signature,
      }));
      return this.requestUnmasking(live, signatures);
    }
    this.requireCount(live.size, 'clients answered the unmasking request');
    const dropped = new Set([...this.shared].filter((id) => !this.survivors.has(id)));
    const { sum, faults } = unmaskSum({
      session: this.session,
      maskedSum: this.maskedSum,
      survivors: this.survivors,
      dropped,
      maskPublicKeys: this.maskPublicKeys,
      seedCommitments: this.seedCommitments,
      seedShares: this.seedShares,
      keyShares: this.keyShares,
      ...(this.x25519 ? { x25519: this.x25519 } : {}),
      ...(this.keystream ? { keystream: this.keystream } : {}),
    });
    checkSumInRange(this.params, sum, this.survivors.size);
    this.stage = 'done';
    const { sumWeights, weightedSum } = dequantizeSum(this.params, sum);
    const survivors = this.session.participants.filter((id) => this.survivors.has(id));
    return {
      kind: 'done',
      result: {
        round: this.session.round,
        sumWeights,
        weightedSum,
        ringSum: sum,
        survivors,
        dropped: this.session.participants.filter((id) => !this.survivors.has(id)),
        faults: [...this.faults, ...faults],
      },
    };
  }

  private requestUnmasking(
    to: Set<string>,
    signatures?: { clientId: string; signature: Uint8Array }[],
  ): SecAggServerStep {
    const live = this.survivors;
    return this.next('unmask', to, (holder) => {
      const around = this.heldBy(holder);
      return {
        type: 'secagg/unmask-request',
        round: this.session.round,
        survivors: around.filter((id) => live.has(id)),
        dropped: around.filter((id) => !live.has(id)),
        ...(signatures ? { signatures } : {}),
      };
    });
  }

  private next(
    stage: SecAggStage,
    live: Set<string>,
    build: (to: string) => SecAggServerMessage,
  ): SecAggServerStep {
    this.requireCount(live.size, `clients left for stage ${stage}`);
    this.stage = stage;
    this.expected = live;
    const messages = [...live].map((to) => ({ to, message: build(to) }));
    return { kind: 'send', stage, messages };
  }

  /** Drops, until none is left, every client with fewer than t live neighbours to hold its shares. */
  private prune(live: Set<string>): Set<string> {
    const t = this.params.threshold;
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of live) {
        if (this.liveNeighbours(id, live).length < t) {
          live.delete(id);
          changed = true;
        }
      }
    }
    return live;
  }

  /** The live neighbours of whom `holder` holds shares. */
  private heldBy(holder: string): string[] {
    const refused = this.refusedShares.get(holder);
    return this.liveNeighbours(holder, this.shared).filter((id) => !refused?.has(id));
  }

  /**
   * Survivors not joined by mask edges could be unmasked group by group, each sum revealed on
   * its own: refuse before any share is asked for.
   */
  private requireConnected(survivors: ReadonlySet<string>): void {
    const [first] = survivors;
    if (first === undefined) return;
    const reached = new Set([first]);
    for (const id of reached) for (const nb of this.liveNeighbours(id, survivors)) reached.add(nb);
    if (reached.size !== survivors.size) {
      throw secaggError(
        'SECAGG_GRAPH_DISCONNECTED',
        `the ${survivors.size} survivors are not connected in the neighbour graph: unmasking would reveal partial sums`,
        undefined,
        { survivors: survivors.size, reached: reached.size },
      );
    }
  }

  private liveNeighbours(id: string, live: ReadonlySet<string>): string[] {
    return (this.session.neighbours.get(id) ?? []).filter((n) => live.has(n));
  }

  private requireCount(count: number, what: string): void {
    if (count < this.params.threshold) {
      throw secaggError(
        'SECAGG_BELOW_THRESHOLD',
        `only ${count} ${what}; threshold is ${this.params.threshold}`,
        undefined,
        {
          count,
          threshold: this.params.threshold,
        },
      );
    }
  }

  private abort(error: FedlearnError): SecAggServerStep {
    this.stage = 'aborted';
    this.maskedSum.fill(0);
    this.outcome = { kind: 'aborted', error };
    return this.outcome;
  }

  private takeUnmaskShares(
    holder: string,
    seedShares: readonly { owner: string; share: Uint8Array }[],
    keyShares: readonly { owner: string; share: Uint8Array }[],
  ) {
    const around = this.heldBy(holder);
    const wantSeeds = around.filter((id) => this.survivors.has(id));
    const wantKeys = around.filter((id) => !this.survivors.has(id));
    const x = (this.session.index.get(holder) as number) + 1;
    const seeds = checkUnmaskShares(holder, x, seedShares, wantSeeds);
    const keys = checkUnmaskShares(holder, x, keyShares, wantKeys);
    for (const { owner, share } of seeds) append(this.seedShares, owner, share);
    for (const { owner, share } of keys) append(this.keyShares, owner, share);
  }
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Starts the server side of one secure-aggregation round: validates the config for these
 * participants (refusing one that could overflow) and draws the neighbour graph's seed.
 */
export function createSecAggServerRound(
  config: unknown,
  participants: readonly string[],
  options: {
    round: number;
    randomBytes: RandomBytes;
    x25519?: X25519;
    /** Mask expansion for unmasking, e.g. Node's native ChaCha20 or a worker pool. */
    keystream?: Keystream;
    /** 'malicious' needs `identities`: every participant's enrolled Ed25519 public key. */
    mode?: SecAggMode;
    identities?: ReadonlyMap<string, Uint8Array>;
  },
): SecAggServerRound {
  const params = resolveSecAggParams(config, participants.length);
  const malicious = options.mode === 'malicious';
  const setup: SecAggSetup = {
    type: 'secagg/setup',
    round: options.round,
    participants: [...participants],
    config: explicitConfig(params),
    graphSeed: options.randomBytes(GRAPH_SEED_BYTES),
    ...(malicious
      ? {
          mode: 'malicious' as const,
          identities: participants.map((clientId) => ({
            clientId,
            publicKey: options.identities?.get(clientId) ?? new Uint8Array(0),
          })),
        }
      : {}),
  };
  return new SecAggServerRound(setup, {
    ...(options.x25519 ? { x25519: options.x25519 } : {}),
    ...(options.keystream ? { keystream: options.keystream } : {}),
  });
}
