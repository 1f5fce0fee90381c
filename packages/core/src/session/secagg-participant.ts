import { FedlearnError } from '../errors.js';
import type { ClientMessage, SecAggEnvelope } from '../protocol/messages.js';
import { cryptoRandomBytes, type RandomBytes } from '../random.js';
import { createSecAggClient, type SecAggClient, type SecAggInput } from '../secagg/client.js';
import type { ClientIdentity } from '../secagg/malicious.js';
import {
  parseSecAggMessage,
  type SecAggClientMessage,
  SecAggServerMessageSchema,
  type SecAggSetup,
} from '../secagg/messages.js';
import type { SecAggPolicy } from '../secagg/policy.js';
import type { Keystream } from '../secagg/prg.js';
import { decodeSecAggMessage, encodeSecAggMessage } from '../secagg/wire.js';

/** What a client brings to secure rounds beyond its id: its policy (and, later, its identity). */
export interface SecAggClientSettings {
  /** What this client accepts; a weaker round is refused with SECAGG_POLICY_REFUSED and no update is sent. */
  policy?: SecAggPolicy;
  /** Its Ed25519 identity key and the enrolled keys of the others: needed for malicious-server rounds. */
  identity?: ClientIdentity;
  /** Mask expansion: the portable ChaCha20 by default; Node clients inject the native one. */
  keystream?: Keystream;
}

export interface SecAggParticipantOptions extends SecAggClientSettings {
  clientId: string;
  send: (message: ClientMessage) => Promise<void>;
  /** Cryptographic randomness for keys, seeds and rounding; WebCrypto by default. */
  randomBytes?: RandomBytes;
}

interface SecureRound {
  jobId: string;
  round: number;
  setup?: SecAggSetup;
  input?: SecAggInput;
  client?: SecAggClient;
}

/**
 * The client's part in secure rounds, to which `ClientSession` delegates `secagg` messages. It
 * pairs the round's setup (from the coordinator) with the client's trained update (from the
 * session), advertises keys once it has both, and answers every later stage. The update is kept
 * only until the client has sent its masked input and unmasking shares.
 *
 * @example
 * const participant = new SecAggParticipant({ clientId: 'c1', send });
 * await participant.receive(envelope); // the setup, then each stage
 * await participant.contribute('job', 3, { update: delta, weight: 120 });
 */
export class SecAggParticipant {
  private current: SecureRound | undefined;
  private readonly randomBytes: RandomBytes;

  constructor(private readonly options: SecAggParticipantOptions) {
    this.randomBytes = options.randomBytes ?? cryptoRandomBytes;
  }

  /** Forgets the round in progress (the connection was lost: the coordinator counts us as dropped). */
  reset(): void {
    this.current = undefined;
  }

  /** Handles one `secagg` envelope from the coordinator. Throws typed errors for anything invalid. */
  async receive(envelope: SecAggEnvelope): Promise<void> {
    const message = parseSecAggMessage(SecAggServerMessageSchema, decodeSecAggMessage(envelope.params));
    if (message.round !== envelope.round) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'secagg message round differs from its envelope', {
        details: { round: message.round, envelopeRound: envelope.round },
      });
    }
    if (message.type === 'secagg/setup') {
      const round = this.roundFor(envelope.jobId, envelope.round);
      round.setup = message;
      return this.advertiseWhenReady(round);
    }
    const round = this.current;
    if (round?.client === undefined || round.jobId !== envelope.jobId || round.round !== envelope.round) {
      throw new FedlearnError(
        'STALE_ROUND',
        `no secure round ${envelope.round} of ${envelope.jobId} in progress`,
        {
          details: { jobId: envelope.jobId, round: envelope.round },
        },
      );
    }
    const reply = round.client.handle(message, round.input);
    if (reply.type === 'secagg/unmask') this.current = undefined;
    await this.send(round, reply);
  }

  /** The trained update of a secure round; the keys go out once the setup is known too. */
  async contribute(jobId: string, round: number, input: SecAggInput): Promise<void> {
    const current = this.roundFor(jobId, round);
    current.input = input;
    await this.advertiseWhenReady(current);
  }

  private roundFor(jobId: string, round: number): SecureRound {
    if (this.current?.jobId !== jobId || this.current.round !== round) this.current = { jobId, round };
    return this.current;
  }

  private async advertiseWhenReady(round: SecureRound): Promise<void> {
    if (round.setup === undefined || round.input === undefined || round.client !== undefined) return;
    round.client = createSecAggClient(round.setup, this.options.clientId, {
      randomBytes: this.randomBytes,
      ...(this.options.policy ? { policy: this.options.policy } : {}),
      ...(this.options.identity ? { identity: this.options.identity } : {}),
      ...(this.options.keystream ? { keystream: this.options.keystream } : {}),
    });
    // A weight above the round's cap is sent as the cap (see `cappedMaxWeight`).
    const cap = round.client.session.params.maxWeight;
    if (round.input.weight > cap) round.input = { ...round.input, weight: cap };
    await this.send(round, round.client.advertiseKeys());
  }

  private send(round: SecureRound, message: SecAggClientMessage): Promise<void> {
    return this.options.send({
      type: 'secagg',
      jobId: round.jobId,
      round: round.round,
      params: encodeSecAggMessage(message),
    });
  }
}
