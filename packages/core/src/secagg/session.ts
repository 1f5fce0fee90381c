import { resolveSecAggParams, type SecAggParams } from './config.js';
import { secaggError } from './errors.js';
import { neighbourGraph } from './graph.js';
import { IDENTITY_KEY_BYTES } from './identity.js';
import { roundContext } from './keys.js';
import type { SecAggSetup } from './messages.js';

/** What both sides derive from the setup message: parameters, graph, indices and the round context. */
export interface SecAggSession {
  readonly round: number;
  readonly participants: readonly string[];
  readonly params: SecAggParams;
  readonly context: Uint8Array;
  /** Participant index of each id; the Shamir x-coordinate of a holder is its index + 1. */
  readonly index: ReadonlyMap<string, number>;
  /** Neighbour ids of each id. */
  readonly neighbours: ReadonlyMap<string, readonly string[]>;
  readonly mode: SecAggMode;
  /** Malicious mode: each participant's Ed25519 identity key, from the setup. */
  readonly identities: ReadonlyMap<string, Uint8Array>;
}

export type SecAggMode = 'semi-honest' | 'malicious';

export const GRAPH_SEED_BYTES = 32;

export function openSession(setup: SecAggSetup): SecAggSession {
  const { participants, graphSeed, round } = setup;
  const index = new Map<string, number>();
  participants.forEach((id, i) => {
    if (index.has(id)) throw secaggError('INVALID_CONFIG', `participant ${id} is listed twice`, id);
    index.set(id, i);
  });
  if (graphSeed.length !== GRAPH_SEED_BYTES) {
    throw secaggError(
      'MALFORMED_MESSAGE',
      `graph seed must be ${GRAPH_SEED_BYTES} bytes, got ${graphSeed.length}`,
    );
  }
  const params = resolveSecAggParams(setup.config, participants.length);
  const mode = setup.mode ?? 'semi-honest';
  const identities = new Map<string, Uint8Array>();
  for (const { clientId, publicKey } of setup.identities ?? []) {
    if (!index.has(clientId) || identities.has(clientId) || publicKey.length !== IDENTITY_KEY_BYTES) {
      throw secaggError('INVALID_CONFIG', `identity key of ${clientId} is not one per participant`, clientId);
    }
    identities.set(clientId, publicKey);
  }
  if (mode === 'malicious' && identities.size !== participants.length) {
    throw secaggError('INVALID_CONFIG', 'the malicious-server mode needs every participant’s identity key');
  }
  if (mode === 'malicious' && 2 * params.threshold <= params.neighbours) {
    // Two disjoint groups of t could each sign a different survivor set.
    throw secaggError(
      'INVALID_CONFIG',
      'the malicious-server mode needs 2t > k, even for a complete graph',
      undefined,
      {
        neighbours: params.neighbours,
        threshold: params.threshold,
      },
    );
  }
  const graph = neighbourGraph(participants.length, params.neighbours, graphSeed);
  const neighbours = new Map<string, readonly string[]>();
  participants.forEach((id, i) => {
    neighbours.set(
      id,
      (graph[i] as number[]).map((j) => participants[j] as string),
    );
  });
  return {
    round,
    participants,
    params,
    context: roundContext(round, graphSeed, participants),
    index,
    neighbours,
    mode,
    identities,
  };
}

/** The sign with which `self` adds the mask it shares with `other`: + for the lower index, - for the higher. */
export function pairSign(session: SecAggSession, self: string, other: string): 1 | -1 {
  return (session.index.get(self) as number) < (session.index.get(other) as number) ? 1 : -1;
}

/** Plaintext of a sealed share bundle: the share of the self-mask seed, then of the masking key. */
export const BUNDLE_BYTES = 66;
