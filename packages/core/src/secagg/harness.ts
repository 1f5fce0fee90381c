import { seededRandomBytes } from '../random.js';
import { createSecAggClient, type SecAggClient, type SecAggInput } from './client.js';
import type { SecAggConfig } from './config.js';
import type { SecAggClientMessage, SecAggServerMessage } from './messages.js';
import type { SecAggServerStep } from './round-types.js';
import { createSecAggServerRound, type SecAggServerRound } from './server.js';

/**
 * A round driven by hand, for tests that need to intercept messages in either direction.
 * Not part of the public API.
 */
export interface LiveRound {
  readonly ids: readonly string[];
  readonly server: SecAggServerRound;
  readonly clients: ReadonlyMap<string, SecAggClient>;
  readonly input: SecAggInput;
  /** Delivers each message of a `send` step to its client and the replies to the server. */
  exchange(
    step: SecAggServerStep,
    edit?: (to: string, message: SecAggServerMessage) => SecAggServerMessage,
  ): SecAggServerStep;
  /** Stage 1: every client advertises its keys. */
  advertise(): SecAggServerStep;
}

export function liveRound(n = 6, seed = 5, config: Partial<SecAggConfig> = {}): LiveRound {
  const ids = Array.from({ length: n }, (_, i) => `client-${i}`);
  const full = { dimension: 8, clipRange: 1, quantizationBits: 8, maxWeight: 10, ...config };
  const server = createSecAggServerRound(full, ids, { round: 3, randomBytes: seededRandomBytes(seed) });
  const clients = new Map(
    ids.map((id, i) => [
      id,
      createSecAggClient(server.setup, id, { randomBytes: seededRandomBytes(seed * 100 + i) }),
    ]),
  );
  const input = { update: new Float32Array(full.dimension).fill(0.5), weight: 3 };
  const deliver = (to: string, reply: SecAggClientMessage, last: SecAggServerStep) => {
    const step = server.handle(to, reply);
    return step.kind === 'pending' ? last : step;
  };
  return {
    ids,
    server,
    clients,
    input,
    advertise() {
      let last: SecAggServerStep = { kind: 'pending', stage: server.currentStage };
      for (const id of ids) last = deliver(id, (clients.get(id) as SecAggClient).advertiseKeys(), last);
      return last;
    },
    exchange(step, edit = (_to, m) => m) {
      if (step.kind !== 'send') throw new Error(`expected a send step, got ${step.kind}`);
      let last: SecAggServerStep = { kind: 'pending', stage: server.currentStage };
      for (const { to, message } of step.messages) {
        last = deliver(to, (clients.get(to) as SecAggClient).handle(edit(to, message), input), last);
      }
      return last;
    },
  };
}
