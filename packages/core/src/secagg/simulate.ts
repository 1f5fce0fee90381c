import type { FedlearnError } from '../errors.js';
import { toFedlearnError } from '../errors.js';
import { createRng, seededRandomBytes } from '../random.js';
import { createSecAggClient, type SecAggClient, type SecAggInput } from './client.js';
import type { SecAggConfig } from './config.js';
import type { SecAggClientMessage } from './messages.js';
import { quantizeWeighted } from './quantize.js';
import {
  createSecAggServerRound,
  type SecAggResult,
  type SecAggServerRound,
  type SecAggServerStep,
} from './server.js';

/** The four client stages, in order; a client dropped at a stage sends nothing from then on. */
export const SECAGG_CLIENT_STAGES = ['advertise-keys', 'share-keys', 'masked-input', 'unmask'] as const;
export type SecAggClientStage = (typeof SECAGG_CLIENT_STAGES)[number];

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
  /** Sees every message the server receives (after tampering), and the clients' plain quantized inputs. */
  readonly observe?: (
    from: string,
    message: unknown,
    server: SecAggServerRound,
    quantized: ReadonlyMap<string, Uint32Array>,
  ) => void;
  /** Each client's update and weight; random (some values beyond the clip range) by default. */
  readonly makeInput?: (clientId: string, dimension: number) => { update: Float32Array; weight: number };
}

export interface SecAggSimulation {
  readonly server: SecAggServerRound;
  readonly outcome: SecAggServerStep;
  readonly result?: SecAggResult;
  readonly error?: FedlearnError;
  /** Each client's [w, w·q] before masking, as the client computed it. */
  readonly quantized: ReadonlyMap<string, Uint32Array>;
  readonly inputs: ReadonlyMap<string, SecAggInput>;
  /** Plain sum mod 2^b of the quantized inputs of the server's survivors (empty if aborted). */
  readonly expectedRingSum: Uint32Array;
  /** Which clients dropped at which stage. */
  readonly droppedAt: ReadonlyMap<string, SecAggClientStage>;
  /** Typed errors the server raised for refused messages. */
  readonly rejected: readonly FedlearnError[];
  readonly clientErrors: ReadonlyMap<string, FedlearnError>;
}

/**
 * Runs one whole SecAgg+ round in memory: n real clients and the real server, messages passed
 * directly, dropouts at chosen stages. Deterministic for a given `seed`.
 *
 * @example
 * const sim = simulateSecAggRound({ n: 20, d: 100, seed: 1, dropouts: { 'masked-input': 3 } });
 * sim.result?.ringSum; // equals sim.expectedRingSum
 */
export function simulateSecAggRound(options: SecAggSimulationOptions): SecAggSimulation {
  const { n, d, seed } = options;
  const rng = createRng(seed);
  const ids = Array.from({ length: n }, (_, i) => `client-${i}`);
  const config = { dimension: d, clipRange: 1, quantizationBits: 12, maxWeight: 100, ...options.config };
  const server = createSecAggServerRound(config, ids, { round: 3, randomBytes: seededRandomBytes(seed) });
  const params = server.params;

  const droppedAt = new Map<string, SecAggClientStage>();
  const order = ids.slice();
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as string, order[i] as string];
  }
  let cursor = 0;
  for (const stage of SECAGG_CLIENT_STAGES) {
    for (let c = 0; c < (options.dropouts?.[stage] ?? 0) && cursor < n; c++)
      droppedAt.set(order[cursor++] as string, stage);
  }

  const inputs = new Map<string, SecAggInput>();
  const quantized = new Map<string, Uint32Array>();
  for (const id of ids) {
    const update = new Float32Array(d);
    for (let i = 0; i < d; i++) update[i] = rng.normal() * 0.6;
    const noiseSeed = seededRandomBytes(rng.int(2 ** 31))(32);
    const weight = rng.int(params.maxWeight + 1);
    const input = { ...(options.makeInput?.(id, d) ?? { update, weight }), noiseSeed };
    inputs.set(id, input);
    quantized.set(id, quantizeWeighted(params, input.update, input.weight, noiseSeed));
  }

  const clients = new Map<string, SecAggClient>();
  const rejected: FedlearnError[] = [];
  const clientErrors = new Map<string, FedlearnError>();
  const live = (id: string, stage: SecAggClientStage) => {
    const at = droppedAt.get(id);
    return (
      !clientErrors.has(id) &&
      (at === undefined || SECAGG_CLIENT_STAGES.indexOf(at) > SECAGG_CLIENT_STAGES.indexOf(stage))
    );
  };
  const deliver = (from: string, message: SecAggClientMessage): SecAggServerStep | undefined => {
    const sent = options.tamper ? options.tamper(from, message) : message;
    options.observe?.(from, sent, server, quantized);
    try {
      return server.handle(from, sent);
    } catch (error) {
      rejected.push(toFedlearnError(error));
      return undefined;
    }
  };

  let step = server.start();
  for (const stage of SECAGG_CLIENT_STAGES) {
    if (step.kind !== 'send') break;
    let last: SecAggServerStep | undefined;
    for (const { to, message } of step.messages) {
      if (!live(to, stage)) continue;
      try {
        let client = clients.get(to);
        if (client === undefined) {
          client = createSecAggClient(server.setup, to, {
            randomBytes: seededRandomBytes(seed * 7919 + ids.indexOf(to)),
          });
          clients.set(to, client);
        }
        const reply =
          stage === 'advertise-keys' ? client.advertiseKeys() : client.handle(message, inputs.get(to));
        last = deliver(to, reply) ?? last;
      } catch (error) {
        clientErrors.set(to, toFedlearnError(error));
      }
    }
    step = last !== undefined && last.kind !== 'pending' ? last : server.closeStage();
  }

  const expectedRingSum = new Uint32Array(step.kind === 'done' ? params.vectorLength : 0);
  if (step.kind === 'done') {
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
  };
}
