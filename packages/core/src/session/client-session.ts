import { type Clock, systemClock } from '../clock.js';
import { FedlearnError, toFedlearnError } from '../errors.js';
import { DEFAULT_MAX_PARAMS_BYTES, decodeParams, encodeParams } from '../params/codec.js';
import { flattenParams, type ModelParams, specsOf, unflattenParams } from '../params/tensors.js';
import type { TransferSettings } from '../protocol/frame-sender.js';
import {
  type ClientMessage,
  type EvaluateIns,
  type FitIns,
  type GetParametersIns,
  parseServerMessage,
  type SecAggEnvelope,
  type ServerMessage,
} from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { RandomBytes, Rng } from '../random.js';
import { clippingMod, distributedNoiseMod } from './middleware/privacy-mods.js';
import { secureAggregationMod } from './middleware/secagg-mod.js';
import { type ClientMod, composeMods, type FitReply } from './middleware/types.js';
import { type SecAggClientSettings, SecAggParticipant } from './secagg-participant.js';
import type { SessionEvent, SessionTransport, Trainer } from './types.js';

export interface ClientSessionOptions {
  clientId: string;
  trainer: Trainer;
  transport: SessionTransport;
  clock?: Clock;
  maxPayloadBytes?: number;
  runtime?: string;
  onEvent?: (event: SessionEvent) => void;
  /** Take part in secure-aggregation rounds (announced in the hello; default true). */
  secureAggregation?: boolean;
  /** Randomness for secure aggregation; WebCrypto by default. */
  randomBytes?: RandomBytes;
  /** This client's secure-aggregation policy (and identity): see `SecAggClientSettings`. */
  secagg?: SecAggClientSettings;
  /** The credential issued at enrollment, sent in every hello to prove `clientId`. */
  credential?: string;
  /** Chunked-transfer settings offered in the hello (the transport's; absent: no flow control). */
  transfer?: TransferSettings;
  /** Source of distributed-DP noise; a CSPRNG by default (inject a seeded one only in tests). */
  noiseRng?: Rng;
  /** Extra steps around local training, outermost first, inside the built-in chain. */
  mods?: readonly ClientMod[];
}

type Task = FitIns | EvaluateIns | GetParametersIns;

/**
 * The client side of the fedlearn protocol, once for every runtime: it says hello, answers the
 * coordinator's instructions with the trainer, and reports typed errors. Node and browser clients
 * only plug in a transport and a trainer.
 *
 * @example
 * const session = new ClientSession({ clientId: 'edge-1', trainer, transport });
 * socket.on('connect', () => session.connected());
 * socket.on('message', (m) => session.receive(m));
 */
export class ClientSession {
  private readonly clock: Clock;
  private readonly maxPayloadBytes: number;
  private queue: Task[] = [];
  private working = false;
  private fatalError: FedlearnError | undefined;
  private readonly secagg: SecAggParticipant | undefined;
  /** Training wrapped in the client mods: secure aggregation, then distributed noise, then clipping. */
  private readonly fitChain: (task: FitIns) => Promise<FitReply>;

  constructor(private readonly options: ClientSessionOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PARAMS_BYTES;
    if (options.secureAggregation ?? true) {
      this.secagg = new SecAggParticipant({
        clientId: options.clientId,
        send: (message) => this.send(message),
        ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
        ...options.secagg,
      });
    }
    this.fitChain = composeMods(
      [
        secureAggregationMod(this.secagg, options.secagg?.policy),
        distributedNoiseMod(options.noiseRng),
        clippingMod(),
        ...(options.mods ?? []),
      ],
      (task) => this.train(task),
    );
  }

  /** The fatal error the server ended the session with, if any. */
  get fatal(): FedlearnError | undefined {
    return this.fatalError;
  }

  /** Call on every (re)connection: tasks from an old connection are void, and the server needs a hello. */
  async connected(): Promise<void> {
    this.queue = [];
    this.secagg?.reset();
    const { trainer } = this.options;
    await this.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      clientId: this.options.clientId,
      numExamples: trainer.numExamples,
      numEvalExamples: trainer.numEvalExamples,
      capabilities: { secagg: this.secagg !== undefined, backend: trainer.backend },
      ...(this.options.runtime ? { runtime: this.options.runtime } : {}),
      ...(trainer.dataFingerprint ? { dataFingerprint: trainer.dataFingerprint } : {}),
      ...(this.options.credential ? { credential: this.options.credential } : {}),
      ...(this.options.transfer ? { transfer: this.options.transfer } : {}),
    });
  }

  /** Handles one message from the coordinator. Never throws: problems become events or client errors. */
  async receive(raw: unknown): Promise<void> {
    let message: ServerMessage;
    try {
      message = parseServerMessage(raw);
    } catch (error) {
      const e = toFedlearnError(error, 'MALFORMED_MESSAGE');
      this.emit({ type: 'task_failed', kind: 'receive', code: e.code, message: e.message });
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.emit({
          type: 'welcome',
          serverId: message.serverId,
          heartbeatIntervalMs: message.heartbeatIntervalMs,
          ...(message.transfer ? { transfer: message.transfer } : {}),
        });
        return;
      case 'error':
        if (message.fatal) this.fatalError = new FedlearnError(message.error.code, message.error.message);
        this.emit({
          type: 'server_error',
          code: message.error.code,
          message: message.error.message,
          fatal: message.fatal,
        });
        return;
      case 'secagg':
        // Not queued: the stages must go on while this client trains or evaluates.
        return this.onSecAgg(message);
      default:
        this.queue.push(message);
        await this.drain();
    }
  }

  /** Runs queued tasks one at a time; a task whose deadline has passed is skipped, not run late. */
  private async drain(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let task = this.queue.shift(); task; task = this.queue.shift()) {
        if ('deadline' in task && task.deadline <= this.clock.now()) {
          this.emit({
            type: 'task_skipped',
            kind: task.type,
            jobId: task.jobId,
            round: task.round,
            reason: 'deadline passed',
          });
          continue;
        }
        await this.run(task);
      }
    } finally {
      this.working = false;
    }
  }

  private async run(task: Task): Promise<void> {
    try {
      if (task.type === 'fit_ins') await this.fit(task);
      else if (task.type === 'evaluate_ins') await this.evaluate(task);
      else await this.getParameters(task);
    } catch (error) {
      const e = toFedlearnError(error, 'TRAINING_FAILED');
      this.emit({ type: 'task_failed', kind: task.type, code: e.code, message: e.message });
      const where = 'jobId' in task ? { jobId: task.jobId, round: task.round } : {};
      await this.send({ type: 'client_error', ...where, error: e.toJSON() }).catch(() => undefined);
    }
  }

  private async onSecAgg(envelope: SecAggEnvelope): Promise<void> {
    try {
      if (!this.secagg) {
        throw new FedlearnError('INVALID_ARGUMENT', 'this client does not take part in secure aggregation');
      }
      await this.secagg.receive(envelope);
    } catch (error) {
      const e = toFedlearnError(error, 'MALFORMED_MESSAGE');
      this.emit({ type: 'task_failed', kind: 'secagg', code: e.code, message: e.message });
      const where = { jobId: envelope.jobId, round: envelope.round };
      await this.send({ type: 'client_error', ...where, error: e.toJSON() }).catch(() => undefined);
    }
  }

  private async fit(task: FitIns): Promise<void> {
    const reply = await this.fitChain(task);
    const { outcome } = reply;
    if (reply.delivered) {
      this.emit({ ...fitDone(task, outcome), bytesUp: reply.delivered.bytesUp });
      return;
    }
    const params = encodeParams(reply.update ? addUpdate(reply.global, reply.update) : outcome.params);
    await this.send({
      type: 'fit_res',
      jobId: task.jobId,
      round: task.round,
      numExamples: outcome.numExamples,
      metrics: outcome.metrics,
      params,
    });
    this.emit({ ...fitDone(task, outcome), bytesUp: params.length });
  }

  /** The innermost step: local training on the global model. */
  private async train(task: FitIns): Promise<FitReply> {
    this.emit({ type: 'fit_start', jobId: task.jobId, round: task.round });
    const global = this.decode(task.params);
    const outcome = await this.options.trainer.fit(global, task.config);
    return { outcome, global, weight: outcome.numExamples };
  }

  private async evaluate(task: EvaluateIns): Promise<void> {
    const outcome = await this.options.trainer.evaluate(this.decode(task.params), task.config);
    await this.send({ type: 'evaluate_res', jobId: task.jobId, round: task.round, ...outcome });
    this.emit({
      type: 'evaluate_done',
      jobId: task.jobId,
      round: task.round,
      loss: outcome.loss,
      metrics: outcome.metrics,
    });
  }

  private async getParameters(task: GetParametersIns): Promise<void> {
    const { params, modelTopology } = await this.options.trainer.getParameters();
    await this.send({
      type: 'get_parameters_res',
      requestId: task.requestId,
      modelTopology,
      params: encodeParams(params),
    });
  }

  private decode(bytes: Uint8Array) {
    return decodeParams(bytes, { maxBytes: this.maxPayloadBytes, expected: this.options.trainer.specs() });
  }

  private send(message: ClientMessage): Promise<void> {
    return this.options.transport.send(message);
  }

  private emit(event: SessionEvent): void {
    this.options.onEvent?.(event);
  }
}

/** global + update, as the model's tensors. */
function addUpdate(global: ModelParams, update: Float32Array | Float64Array): ModelParams {
  const flat = flattenParams(global);
  for (let i = 0; i < flat.length; i++) flat[i] = (flat[i] as number) + (update[i] as number);
  return unflattenParams(flat, specsOf(global));
}

function fitDone(task: FitIns, outcome: { numExamples: number; metrics: Record<string, number> }) {
  return {
    type: 'fit_done' as const,
    jobId: task.jobId,
    round: task.round,
    numExamples: outcome.numExamples,
    metrics: outcome.metrics,
  };
}
