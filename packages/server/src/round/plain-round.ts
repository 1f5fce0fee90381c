import {
  type ClientInfo,
  type DataFingerprint,
  decodeParams,
  encodeParams,
  FedlearnError,
  type FitRes,
  flattenParams,
  type SecAggEnvelope,
  type TensorSpec,
  toFedlearnError,
  unflattenParams,
} from '@fedlearn/core';
import type { RegisteredClient } from '../client-registry.js';
import { refuseStale } from '../connection.js';
import { Phase } from './phase.js';
import type { RoundTraining, TrainingDeps, TrainingRound } from './round-training.js';

/**
 * A plain round: each sampled client uploads its new weights (`fit_res`), which the strategy folds
 * into the next global model as they arrive, until all answered or the round's deadline.
 */
export class PlainRoundTraining implements RoundTraining {
  private phase: Phase<true> | undefined;
  private aggregation: ReturnType<TrainingDeps['strategy']['beginRound']> | undefined;
  private bytesUp = 0;
  private specs: TensorSpec[] = [];
  private currentRound: number | undefined;
  /** Time spent in the strategy's fold this round, in ms (what `aggregationSeconds` reports). */
  private foldMs = 0;
  /** This round's contributors: they join the job's lineage only if the round completes. */
  private roundContributors = new Map<string, DataFingerprint>();

  constructor(private readonly deps: TrainingDeps) {}

  eligible(clients: readonly ClientInfo[]): ClientInfo[] {
    return [...clients];
  }

  async run({ round, sampled, quorum, global, summary }: TrainingRound) {
    const { spec, strategy, clock, logger, jobId, records } = this.deps;
    const globalBytes = encodeParams(unflattenParams(global.flat, global.specs));
    this.aggregation = strategy.beginRound(round, global.flat);
    this.bytesUp = 0;
    this.specs = global.specs;
    this.currentRound = round;
    this.foldMs = 0;
    this.roundContributors = new Map();
    const fit = new Phase<true>('fit', jobId, round, sampled, spec.roundTimeoutMs, clock);
    if (quorum !== undefined && quorum < sampled.length) fit.closeAt = quorum;
    this.phase = fit;
    sampled.forEach((clientId, index) => {
      const client = this.deps.clients.get(clientId);
      if (!client) {
        fit.drop(clientId);
        return;
      }
      summary.bytesDown += client.connection.send({
        type: 'fit_ins',
        jobId,
        round,
        deadline: fit.deadline,
        config: { ...spec.fit, ...strategy.fitConfig?.(round), seed: fitSeed(spec.seed, round, index) },
        params: globalBytes,
      });
      records?.sampled(clientId, clock.now());
    });
    await fit.closed;
    for (const clientId of [...fit.failed, ...fit.dropped, ...fit.timedOut]) records?.missed(clientId);
    if (fit.reachedQuorum) for (const clientId of fit.pending) records?.cut(clientId);
    this.phase = undefined;
    Object.assign(summary, {
      completed: fit.results.size,
      failed: fit.failed.size,
      dropped: fit.dropped.size,
      timedOut: fit.timedOut.length,
    });
    summary.bytesUp = this.bytesUp;
    for (const clientId of fit.timedOut) {
      logger.warn({ jobId, round, clientId }, 'no fit result before the deadline');
    }
    try {
      if (fit.results.size < strategy.minFitClients) {
        throw new FedlearnError(
          'QUORUM_NOT_REACHED',
          `round ${round}: ${fit.results.size} of ${sampled.length} clients returned an update, the quorum is ${strategy.minFitClients}`,
        );
      }
      const started = performance.now();
      const result = this.aggregation.finish();
      summary.aggregationSeconds = (this.foldMs + performance.now() - started) / 1000;
      for (const [id, fingerprint] of this.roundContributors) this.deps.contributors.set(id, fingerprint);
      return result;
    } finally {
      this.aggregation.dispose();
      this.aggregation = undefined;
    }
  }

  handle(client: RegisteredClient, message: FitRes | SecAggEnvelope): void {
    if (message.type === 'fit_res') return this.onFitRes(client, message);
    client.connection.refuse(
      new FedlearnError('STALE_ROUND', 'this job does not use secure aggregation', {
        details: { currentRound: this.phase?.round ?? null },
      }),
      'secagg',
      { jobId: message.jobId, round: message.round },
    );
  }

  onClientError(clientId: string, jobId: string | undefined, round: number | undefined): void {
    this.phase?.clientError(clientId, jobId, round);
  }

  clientLeft(clientId: string): void {
    this.phase?.drop(clientId);
  }

  cancel(): void {
    this.phase?.close();
  }

  private onFitRes(client: RegisteredClient, message: FitRes): void {
    const { connection, info } = client;
    const phase = this.phase;
    const where = { jobId: message.jobId, round: message.round };
    if (!phase?.isOpen || phase.jobId !== message.jobId || phase.round !== message.round) {
      return refuseStale(connection, 'fit_res', where, phase?.round ?? this.currentRound);
    }
    if (!phase.pending.has(info.clientId)) {
      const code =
        phase.results.has(info.clientId) || phase.failed.has(info.clientId)
          ? 'DUPLICATE_UPDATE'
          : 'NOT_SAMPLED';
      return connection.refuse(
        new FedlearnError(code, `no update is expected from ${info.clientId} in round ${message.round}`),
        'fit_res',
        where,
      );
    }
    try {
      if (message.numExamples > info.numExamples) {
        throw new FedlearnError(
          'INVALID_ARGUMENT',
          `update claims ${message.numExamples} examples, the client announced ${info.numExamples}`,
        );
      }
      const params = decodeParams(message.params, {
        maxBytes: this.deps.maxPayloadBytes,
        expected: this.specs,
      });
      const folding = performance.now();
      this.aggregation!.add({
        clientId: info.clientId,
        numExamples: message.numExamples,
        params: flattenParams(params),
        metrics: message.metrics,
      });
      this.foldMs += performance.now() - folding;
      this.bytesUp += message.params.length;
      if (info.dataFingerprint) this.roundContributors.set(info.clientId, info.dataFingerprint);
      this.deps.records?.completed(info.clientId, this.deps.clock.now());
      phase.succeed(info.clientId, true);
      this.deps.emit({
        type: 'fit_received',
        jobId: this.deps.jobId,
        round: message.round,
        clientId: info.clientId,
        completed: phase.results.size,
        sampled: phase.results.size + phase.pending.size + phase.failed.size + phase.dropped.size,
      });
    } catch (error) {
      connection.refuse(toFedlearnError(error, 'MALFORMED_MESSAGE'), 'fit_res', where);
      phase.fail(info.clientId);
    }
  }
}

/** The seed of one client's local training in a round, the same in plain and secure rounds. */
export function fitSeed(jobSeed: number, round: number, index: number): number {
  return (jobSeed * 7919 + round * 104729 + index) >>> 0;
}
