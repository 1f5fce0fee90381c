import { type FedlearnError, toFedlearnError } from '../errors.js';
import { seededRandomBytes } from '../random.js';
import { createSecAggClient, type SecAggClient, type SecAggInput } from './client.js';
import type { SecAggConfig } from './config.js';
import { generateIdentity, type IdentityKey } from './identity.js';
import { commitSeed, deriveKey } from './keys.js';
import type {
  SecAggAdvertiseKeys,
  SecAggClientMessage,
  SecAggConsistency,
  SecAggServerMessage,
  SecAggShareKeys,
  SecAggUnmask,
} from './messages.js';
import { unpackVector } from './packing.js';
import { addMask } from './prg.js';
import { quantizeWeighted } from './quantize.js';
import type { HeldShare } from './recovery.js';
import type { SecAggOutbound, SecAggServerStep } from './round-types.js';
import { createSecAggServerRound, type SecAggServerRound } from './server.js';
import { parseShare, reconstructSecret } from './shamir.js';

/**
 * Test-only: a round between real clients and the real server, driven by an attacker who sees
 * every message and may rewrite any of them (a curious coordinator, or colluding clients whose
 * messages it edits). Not part of the public API.
 */
export interface Transcript {
  readonly server: SecAggServerRound;
  readonly clients: ReadonlyMap<string, SecAggClient>;
  readonly advertised: Map<string, SecAggAdvertiseKeys>;
  readonly shareKeys: Map<string, SecAggShareKeys>;
  /** Each client's masked vector as the coordinator received it. */
  readonly masked: Map<string, Uint32Array>;
  readonly unmask: Map<string, SecAggUnmask>;
  readonly consistency: Map<string, SecAggConsistency>;
  /** Typed errors clients raised instead of answering. */
  readonly clientErrors: Map<string, FedlearnError>;
  /** Typed errors the server raised for refused messages. */
  readonly refused: FedlearnError[];
  /** Each honest client's plain quantized input, the secret the attacker is after. */
  readonly secrets: Map<string, Uint32Array>;
  readonly outcome: SecAggServerStep;
}

export interface AttackOptions {
  readonly ids: readonly string[];
  readonly config: Partial<SecAggConfig>;
  readonly seed: number;
  /** Rewrites a client message before the server sees it. */
  readonly toServer?: (from: string, message: SecAggClientMessage, seen: Transcript) => SecAggClientMessage;
  /** Rewrites a server message before the client sees it. */
  readonly toClient?: (to: string, message: SecAggServerMessage, seen: Transcript) => SecAggServerMessage;
  /** Clients that go silent from the given stage on (0 advertise, 1 share, 2 mask, 3 unmask or consistency, 4 unmask). */
  readonly silentFrom?: ReadonlyMap<string, number>;
  /** Changes who gets which message at a stage: the coordinator may add, drop or rewrite any. */
  readonly reroute?: (
    stage: number,
    messages: readonly SecAggOutbound[],
    seen: Transcript,
  ) => readonly SecAggOutbound[];
  /** Run the malicious-server mode: each client gets a seeded identity key, pinned by every client. */
  readonly malicious?: boolean;
}

export function runRound(options: AttackOptions): Transcript {
  const { ids, seed } = options;
  const config = { dimension: 6, clipRange: 1, quantizationBits: 8, maxWeight: 10, ...options.config };
  const identities = new Map(ids.map((id, i) => [id, generateIdentity(seededRandomBytes(7000 + i))]));
  const pinned = new Map([...identities].map(([id, key]) => [id, key.publicKey]));
  const server = createSecAggServerRound(config, ids, {
    round: 3,
    randomBytes: seededRandomBytes(seed),
    ...(options.malicious ? { mode: 'malicious' as const, identities: pinned } : {}),
  });
  const clients = new Map<string, SecAggClient>();
  const clientErrors = new Map<string, FedlearnError>();
  for (const [i, id] of ids.entries()) {
    try {
      const identity = { identity: identities.get(id) as IdentityKey, pinned };
      clients.set(
        id,
        createSecAggClient(server.setup, id, {
          randomBytes: seededRandomBytes(seed * 31 + i),
          ...(options.malicious ? { identity } : {}),
        }),
      );
    } catch (error) {
      clientErrors.set(id, toFedlearnError(error));
    }
  }
  const inputs = new Map<string, SecAggInput>();
  const secrets = new Map<string, Uint32Array>();
  ids.forEach((id, i) => {
    const update = Float32Array.from({ length: config.dimension }, (_, j) => Math.sin(seed + 7 * i + j));
    const input = {
      update,
      weight: 1 + ((seed + i) % config.maxWeight),
      noiseSeed: seededRandomBytes(i)(32),
    };
    inputs.set(id, input);
    secrets.set(id, quantizeWeighted(server.params, input.update, input.weight, input.noiseSeed));
  });
  const t: Transcript = {
    server,
    clients,
    advertised: new Map(),
    shareKeys: new Map(),
    masked: new Map(),
    unmask: new Map(),
    consistency: new Map(),
    clientErrors,
    refused: [],
    secrets,
    outcome: server.start(),
  };
  const record = (from: string, m: SecAggClientMessage) => {
    if (m.type === 'secagg/advertise-keys') t.advertised.set(from, m);
    else if (m.type === 'secagg/share-keys') t.shareKeys.set(from, m);
    else if (m.type === 'secagg/masked-input') {
      t.masked.set(from, unpackVector(m.vector, m.length, m.bits) as Uint32Array);
    } else if (m.type === 'secagg/consistency') t.consistency.set(from, m);
    else t.unmask.set(from, m);
  };
  let step: SecAggServerStep = t.outcome;
  for (let stage = 0; stage < 5 && step.kind === 'send'; stage++) {
    let last: SecAggServerStep | undefined;
    const outbound = options.reroute?.(stage, step.messages, t) ?? step.messages;
    for (const { to, message } of outbound) {
      const client = clients.get(to);
      const silent = (options.silentFrom?.get(to) ?? 99) <= stage;
      if (client === undefined || silent || clientErrors.has(to)) continue;
      let reply: SecAggClientMessage;
      try {
        reply =
          stage === 0
            ? client.advertiseKeys()
            : client.handle(options.toClient?.(to, message, t) ?? message, inputs.get(to));
      } catch (error) {
        clientErrors.set(to, toFedlearnError(error));
        continue;
      }
      const sent = options.toServer?.(to, reply, t) ?? reply;
      record(to, sent);
      try {
        const next = server.handle(to, sent);
        if (next.kind !== 'pending') last = next;
      } catch (error) {
        t.refused.push(toFedlearnError(error));
      }
    }
    step = last ?? server.closeStage();
  }
  return { ...t, outcome: step };
}

/** Shares of `owner`'s secret the coordinator collected at the unmasking stage. */
export function collectedShares(t: Transcript, owner: string, kind: 'seed' | 'key'): HeldShare[] {
  const out: HeldShare[] = [];
  for (const [holder, m] of t.unmask) {
    const list = kind === 'seed' ? m.seedShares : m.keyShares;
    for (const s of list) {
      const y = parseShare(s.share);
      if (s.owner === owner && y !== undefined) {
        out.push({ holder, x: (t.server.session.index.get(holder) as number) + 1, y });
      }
    }
  }
  return out;
}

/**
 * The curious coordinator's last step against one client: rebuild its self-mask seed from the
 * shares it was handed and strip the self mask from the client's own masked vector. What is left
 * is the client's input exactly when its pairwise masks cancelled.
 */
export function stripSelfMask(t: Transcript, target: string): Uint32Array | undefined {
  const { session } = t.server;
  const masked = t.masked.get(target);
  const shares = collectedShares(t, target, 'seed');
  const commitment = t.shareKeys.get(target)?.seedCommitment;
  if (masked === undefined || commitment === undefined || shares.length < session.params.threshold) {
    return undefined;
  }
  const seed = reconstructSecret(shares, session.params.threshold);
  if (seed === undefined || !sameBytes(commitSeed(seed, session.context), commitment)) return undefined;
  const out = masked.slice();
  addMask(out, deriveKey(seed, session.context, 'self-mask'), -1);
  return reduce(out, session.params.ringBits);
}

export function reduce(values: Uint32Array, bits: number): Uint32Array {
  if (bits < 32) for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) & (2 ** bits - 1);
  return values;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
