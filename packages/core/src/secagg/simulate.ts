import type { FedlearnError } from '../errors.js';
import { toFedlearnError } from '../errors.js';
import { createRng, seededRandomBytes } from '../random.js';
import { createSecAggClient, type SecAggInput } from './client.js';
import type { SecAggConfig } from './config.js';
import { generateIdentity } from './identity.js';
import type { X25519 } from './keys.js';
import { type SecAggClientMessage, type SecAggServerMessage, secaggMessageBytes } from './messages.js';
import type { Keystream } from './prg.js';
import { quantizeWeighted } from './quantize.js';
import type { SecAggResult, SecAggServerStep } from './round-types.js';
import { createSecAggServerRound, type SecAggServerRound } from './server.js';
import type { SecAggMode } from './session.js';
import { SecAggStandIn, type ShareLedger, type SecAggStandIn as StandIn } from './stand-in.js';

/** The four client stages, in order; a client dropped at a stage sends nothing from then on. */
export const SECAGG_CLIENT_STAGES = ['advertise-keys', 'share-keys', 'masked-input', 'unmask'] as const;
/** The malicious-server mode adds the consistency check before unmasking. */
const MALICIOUS_STAGES = ['advertise-keys', 'share-keys', 'masked-input', 'consistency', 'unmask'] as const;
export type SecAggClientStage = (typeof MALICIOUS_STAGES)[number];

/**
 * Wraps each timed step of a simulation; the simulation itself reads no clock. `server:<stage>`
 * is the server's handling of one message (or the stage's close) while at that stage, so
 * `server:unmask` includes the unmasking that ends the round.
 */
export type SecAggMeasure = <T>(
  what: `client:${SecAggClientStage}` | `server:${SecAggClientStage}`,
  clientId: string,
  run: () => T,
) => T;

export interface SecAggSimulationOptions {
  readonly n: number;
  readonly d: number;
  readonly seed: number;
  /** Overrides of the default config (clipRange 1, quantizationBits 12, maxWeight 100). */
  readonly config?: Partial<SecAggConfig>;
  /** How many clients, picked at random, drop before sending their message of each stage. */
  readonly dropouts?: Partial<Record<SecAggClientStage, number>>;
  /** Replace or corrupt a client's message on its way to the server. */
  readonly tamper?: (from: string, message: SecAggClientMessage) => unknown;
  /** Sees every message the server receives (after tampering), and the real clients' plain quantized inputs. */
  readonly observe?: (
    from: string,
    message: unknown,
    server: SecAggServerRound,
    quantized: ReadonlyMap<string, Uint32Array>,
  ) => void;
  /** Each client's update and weight; random (some values beyond the clip range) by default. */
  readonly makeInput?: (clientId: string, dimension: number) => { update: Float32Array; weight: number };
  /**
   * Only client-0 .. client-(realClients - 1) run the real client; the others are cheap stand-ins
   * (see `SecAggStandIn`) and never drop. The sum is then not checkable. Default: all n are real.
   */
  readonly realClients?: number;
  readonly measure?: SecAggMeasure;
  /** X25519 for the server only (clients keep the portable default), e.g. a native one on Node. */
  readonly serverX25519?: X25519;
  /** Mask expansion for the server's unmasking (default: portable ChaCha20). */
  readonly serverKeystream?: Keystream;
  /** Mask expansion for the real clients (default: portable ChaCha20). */
  readonly clientKeystream?: Keystream;
  /** 'malicious': every client gets an Ed25519 identity key, pinned by all (Bonawitz et al. §6). */
  readonly mode?: SecAggMode;
}

export interface SecAggSimulation {
  readonly server: SecAggServerRound;
  readonly outcome: SecAggServerStep;
  readonly result?: SecAggResult;
  readonly error?: FedlearnError;
  /** Each real client's [w, w·q] before masking, as the client computed it. */
  readonly quantized: ReadonlyMap<string, Uint32Array>;
  readonly inputs: ReadonlyMap<string, SecAggInput>;
  /** Plain sum mod 2^b of the quantized inputs of the server's survivors (empty if aborted or with stand-ins). */
  readonly expectedRingSum: Uint32Array;
  /** Which clients dropped at which stage. */
  readonly droppedAt: ReadonlyMap<string, SecAggClientStage>;
  /** Typed errors the server raised for refused messages. */
  readonly rejected: readonly FedlearnError[];
  readonly clientErrors: ReadonlyMap<string, FedlearnError>;
  /** Bytes each client uploaded over the round (see `secaggMessageBytes`). */
  readonly uploadedBytes: ReadonlyMap<string, number>;
}

interface Party {
  advertiseKeys(): SecAggClientMessage;
  handle(message: SecAggServerMessage, input?: SecAggInput): SecAggClientMessage;
}

/**
 * Runs one whole SecAgg+ round in memory: n clients and the real server, messages passed directly,
 * dropouts at chosen stages. Deterministic for a given `seed`.
 *
 * @example
 * const sim = simulateSecAggRound({ n: 20, d: 100, seed: 1, dropouts: { 'masked-input': 3 } });
 * sim.result?.ringSum; // equals sim.expectedRingSum
 */
export function simulateSecAggRound(options: SecAggSimulationOptions): SecAggSimulation {
  const { n, d, seed } = options;
  const realCount = options.realClients ?? n;
  const measure: SecAggMeasure = options.measure ?? ((_what, _id, run) => run());
  const rng = createRng(seed);
  const ids = Array.from({ length: n }, (_, i) => `client-${i}`);
  const config = { dimension: d, clipRange: 1, quantizationBits: 12, maxWeight: 100, ...options.config };
  const malicious = options.mode === 'malicious';
  const stages: readonly SecAggClientStage[] = malicious ? MALICIOUS_STAGES : SECAGG_CLIENT_STAGES;
  const identities = new Map(
    malicious ? ids.map((id, i) => [id, generateIdentity(seededRandomBytes(seed * 104729 + i))]) : [],
  );
  const pinned = new Map([...identities].map(([id, key]) => [id, key.publicKey]));
  const server = createSecAggServerRound(config, ids, {
    round: 3,
    randomBytes: seededRandomBytes(seed),
    ...(options.serverX25519 ? { x25519: options.serverX25519 } : {}),
    ...(options.serverKeystream ? { keystream: options.serverKeystream } : {}),
    ...(malicious ? { mode: 'malicious' as const, identities: pinned } : {}),
  });
  const params = server.params;
  const real = new Set(ids.slice(0, realCount));

  const droppedAt = new Map<string, SecAggClientStage>();
  const order = realCount === n ? ids.slice() : ids.slice(realCount);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as string, order[i] as string];
  }
  let cursor = 0;
  for (const stage of stages) {
    const count = options.dropouts?.[stage] ?? 0;
    for (let c = 0; c < count && cursor < order.length; c++) droppedAt.set(order[cursor++] as string, stage);
  }

  const inputs = new Map<string, SecAggInput>();
  const quantized = new Map<string, Uint32Array>();
  for (const id of real) {
    const update = new Float32Array(d);
    for (let i = 0; i < d; i++) update[i] = rng.normal() * 0.6;
    const noiseSeed = seededRandomBytes(rng.int(2 ** 31))(32);
    const weight = rng.int(params.maxWeight + 1);
    const input = { ...(options.makeInput?.(id, d) ?? { update, weight }), noiseSeed };
    inputs.set(id, input);
    quantized.set(id, quantizeWeighted(params, input.update, input.weight, noiseSeed));
  }

  const ledger: ShareLedger = new Map();
  const parties = new Map<string, Party>();
  const party = (id: string): Party => {
    let p = parties.get(id);
    if (p === undefined) {
      const randomBytes = seededRandomBytes(seed * 7919 + ids.indexOf(id));
      const identity = identities.get(id);
      p = real.has(id)
        ? createSecAggClient(server.setup, id, {
            randomBytes,
            ...(identity ? { identity: { identity, pinned } } : {}),
            ...(options.clientKeystream ? { keystream: options.clientKeystream } : {}),
          })
        : (new SecAggStandIn(server.session, id, randomBytes, real, ledger, identity) as StandIn as Party);
      parties.set(id, p);
    }
    return p;
  };
  const rejected: FedlearnError[] = [];
  const clientErrors = new Map<string, FedlearnError>();
  const uploadedBytes = new Map<string, number>();
  const live = (id: string, stage: SecAggClientStage) => {
    const at = droppedAt.get(id);
    const index = stages.indexOf(stage);
    return !clientErrors.has(id) && (at === undefined || stages.indexOf(at) > index);
  };
  const deliver = (from: string, message: SecAggClientMessage): SecAggServerStep | undefined => {
    const outgoing = options.tamper ? options.tamper(from, message) : message;
    uploadedBytes.set(from, (uploadedBytes.get(from) ?? 0) + secaggMessageBytes(outgoing));
    options.observe?.(from, outgoing, server, quantized);
    try {
      return measure(`server:${server.currentStage as SecAggClientStage}`, from, () =>
        server.handle(from, outgoing),
      );
    } catch (error) {
      rejected.push(toFedlearnError(error));
      return undefined;
    }
  };

  let step = server.start();
  for (const stage of stages) {
    if (step.kind !== 'send') break;
    let last: SecAggServerStep | undefined;
    const targets = step.messages.filter(({ to }) => live(to, stage));
    targets.forEach(({ to, message }) => {
      try {
        const p = party(to);
        const input = inputs.get(to);
        const reply = measure(`client:${stage}`, to, () =>
          stage === 'advertise-keys' ? p.advertiseKeys() : p.handle(message as SecAggServerMessage, input),
        );
        last = deliver(to, reply) ?? last;
      } catch (error) {
        clientErrors.set(to, toFedlearnError(error));
      }
    });
    const closing = last as SecAggServerStep | undefined;
    step =
      closing !== undefined && closing.kind !== 'pending'
        ? closing
        : measure(`server:${server.currentStage as SecAggClientStage}`, '', () => server.closeStage());
  }

  const checkable = step.kind === 'done' && realCount === n;
  const expectedRingSum = new Uint32Array(checkable ? params.vectorLength : 0);
  if (checkable && step.kind === 'done') {
    for (const id of step.result.survivors) {
      const q = quantized.get(id) as Uint32Array;
      for (let i = 0; i < q.length; i++)
        expectedRingSum[i] = (expectedRingSum[i] as number) + (q[i] as number);
    }
    if (params.ringBits < 32) {
      const mask = 2 ** params.ringBits - 1;
      for (let i = 0; i < expectedRingSum.length; i++)
        expectedRingSum[i] = (expectedRingSum[i] as number) & mask;
    }
  }
  return {
    server,
    outcome: step,
    ...(step.kind === 'done' ? { result: step.result } : {}),
    ...(step.kind === 'aborted' ? { error: step.error } : {}),
    quantized,
    inputs,
    expectedRingSum,
    droppedAt,
    rejected,
    clientErrors,
    uploadedBytes,
  };
}
