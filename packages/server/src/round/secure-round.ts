import {
  type ClientInfo,
  cappedMaxWeight,
  createSecAggServerRound,
  cryptoRandomBytes,
  decodeSecAggMessage,
  encodeParams,
  encodeSecAggMessage,
  FedlearnError,
  type FitRes,
  type SecAggEnvelope,
  type SecAggResult,
  toFedlearnError,
  unflattenParams,
} from '@fedlearn/core';
import type { RegisteredClient } from '../client-registry.js';
import { refuseStale } from '../connection.js';
import type { RoundSummary } from '../events.js';
import { identityKeys } from '../job-spec.js';
import { nativeX25519 } from '../native-x25519.js';
import { sharedKeystreamPool } from '../secagg-workers/pool.js';
import { fitSeed } from './plain-round.js';
import type { RoundTraining, TrainingDeps, TrainingRound } from './round-training.js';
import { type SecAggOutcome, SecAggStages, StageHistory } from './secagg-stages.js';

/**
 * A secure round (SecAgg+): each sampled client trains, then sends its update — a delta from the
 * global model, weighted by its number of examples — only as a masked vector. The coordinator
 * learns Σw and Σ w·delta over the survivors and hands the strategy their mean as one result.
 * It never receives, decodes or stores an individual update.
 */
export class SecureRoundTraining implements RoundTraining {
  private stages: SecAggStages | undefined;
  /** Stage times of this job's earlier rounds: later deadlines adapt to them. */
  private readonly history = new StageHistory();
  private current: { round: number; failed: Set<string>; left: Set<string>; bytesUp: number } | undefined;

  constructor(private readonly deps: TrainingDeps) {}

  eligible(clients: readonly ClientInfo[]): ClientInfo[] {
    const { secagg } = this.deps.spec;
    // In the malicious-server mode only enrolled clients, whose identity keys are pinned, take part.
    const enrolled = secagg.mode === 'malicious' ? identityKeys(this.deps.spec) : undefined;
    return clients.filter((c) => c.capabilities.secagg && (enrolled?.has(c.clientId) ?? true));
  }

  async run({ round, sampled, global, summary }: TrainingRound) {
    const { spec, strategy, clients, clock, jobId } = this.deps;
    const secagg = spec.secagg;
    const announced = sampled.map((id) => clients.get(id)?.info.numExamples ?? 0);
    const server = createSecAggServerRound(
      {
        dimension: global.flat.length,
        clipRange: secagg.clip,
        quantizationBits: secagg.bits,
        // Capped: one inflated announcement must not make the round overflow (issue 8).
        maxWeight: secagg.maxWeight ?? cappedMaxWeight(announced, sampled.length, secagg.bits),
        ...(secagg.neighbours === undefined ? {} : { neighbours: secagg.neighbours }),
        ...(secagg.threshold === undefined ? {} : { threshold: secagg.threshold }),
      },
      sampled,
      {
        round,
        randomBytes: cryptoRandomBytes,
        x25519: nativeX25519(),
        keystream: sharedKeystreamPool(),
        mode: secagg.mode,
        identities: identityKeys(spec),
      },
    );
    const state = { round, failed: new Set<string>(), left: new Set<string>(), bytesUp: 0 };
    this.current = state;
    const deadline = clock.now() + spec.roundTimeoutMs;
    const globalBytes = encodeParams(unflattenParams(global.flat, global.specs));
    sampled.forEach((clientId, index) => {
      summary.bytesDown +=
        this.deps.clients.get(clientId)?.connection.send({
          type: 'fit_ins',
          jobId,
          round,
          deadline,
          secureAggregation: true,
          config: { ...spec.fit, ...strategy.fitConfig?.(round), seed: fitSeed(spec.seed, round, index) },
          params: globalBytes,
        }) ?? 0;
    });
    const stages = new SecAggStages({
      round: server,
      clock,
      firstStageTimeoutMs: spec.roundTimeoutMs,
      stageTimeoutMs: secagg.stageTimeoutMs,
      history: this.history,
      send: (to, message) => {
        const client = this.deps.clients.get(to);
        if (!client?.connection.connected) return false;
        summary.bytesDown += client.connection.send({
          type: 'secagg',
          jobId,
          round,
          params: encodeSecAggMessage(message),
        });
        return true;
      },
    });
    this.stages = stages;
    stages.start();
    const outcome = await stages.outcome;
    this.stages = undefined;
    this.current = undefined;
    this.summarize(summary, sampled, state, stages, outcome);
    if (outcome.kind === 'aborted') throw outcome.error;
    const { sumWeights, weightedSum, survivors } = outcome.result;
    if (sumWeights === 0) {
      throw new FedlearnError('AGGREGATION_EMPTY', `round ${round}: the survivors' weights sum to 0`);
    }
    const mean = new Float32Array(global.flat.length);
    for (let i = 0; i < mean.length; i++) {
      mean[i] = (global.flat[i] as number) + (weightedSum[i] as number) / sumWeights;
    }
    for (const id of survivors) {
      const fingerprint = clients.get(id)?.info.dataFingerprint;
      if (fingerprint) this.deps.contributors.set(id, fingerprint);
    }
    // The strategy sees the survivors' weighted mean as one result: what FedAvg would compute.
    const aggregation = strategy.beginRound(round, global.flat);
    try {
      aggregation.add({ clientId: 'secagg', numExamples: sumWeights, params: mean, metrics: {} });
      return aggregation.finish();
    } finally {
      aggregation.dispose();
    }
  }

  handle(client: RegisteredClient, message: FitRes | SecAggEnvelope): void {
    const { connection, info } = client;
    const where = { jobId: message.jobId, round: message.round };
    if (message.type === 'fit_res') {
      // Never decoded: under secure aggregation no individual update is accepted in the clear.
      return connection.refuse(
        new FedlearnError(
          'INVALID_ARGUMENT',
          'this job uses secure aggregation: send updates through its stages',
          {
            details: { clientId: info.clientId },
          },
        ),
        'fit_res',
        where,
      );
    }
    const stages = this.stages;
    const state = this.current;
    if (!stages || !state || message.jobId !== this.deps.jobId || message.round !== state.round) {
      return refuseStale(connection, 'secagg', where, state?.round);
    }
    state.bytesUp += message.params.length;
    // The tally of the stage this message answers (the stage may close on it).
    const tally = stages.stage === 'masked-input' ? stages.tallies.at(-1) : undefined;
    try {
      stages.receive(info.clientId, decodeSecAggMessage(message.params));
    } catch (error) {
      const e = toFedlearnError(error, 'MALFORMED_MESSAGE');
      state.failed.add(info.clientId);
      stages.absent(info.clientId);
      const named = new FedlearnError(e.code, `${info.clientId}: ${e.message}`, {
        details: { ...e.details, clientId: info.clientId },
      });
      return connection.refuse(named, 'secagg', where);
    }
    if (tally) {
      this.deps.emit({
        type: 'fit_received',
        jobId: this.deps.jobId,
        round: message.round,
        clientId: info.clientId,
        completed: tally.answered,
        sampled: tally.expected,
      });
    }
  }

  onClientError(clientId: string, jobId: string | undefined, round: number | undefined): void {
    const current = this.current;
    if (current === undefined || jobId !== this.deps.jobId || round !== current.round) return;
    current.failed.add(clientId);
    this.stages?.absent(clientId);
  }

  clientLeft(clientId: string): void {
    if (this.stages?.isAwaiting(clientId)) this.current?.left.add(clientId);
    this.stages?.absent(clientId);
  }

  cancel(): void {
    this.stages?.cancel();
  }

  private summarize(
    summary: RoundSummary,
    sampled: readonly string[],
    state: { failed: Set<string>; left: Set<string>; bytesUp: number },
    stages: SecAggStages,
    outcome: SecAggOutcome,
  ): void {
    const result: SecAggResult | undefined = outcome.kind === 'done' ? outcome.result : undefined;
    const survivors = new Set(result?.survivors ?? []);
    const failed = [...state.failed].filter((id) => !survivors.has(id));
    const left = [...state.left].filter((id) => !survivors.has(id) && !state.failed.has(id));
    summary.completed = survivors.size;
    summary.failed = failed.length;
    summary.dropped = left.length;
    summary.timedOut = Math.max(0, sampled.length - survivors.size - failed.length - left.length);
    summary.bytesUp = state.bytesUp;
    summary.secagg = {
      survivors: survivors.size,
      stages: stages.tallies.map((t) => ({ ...t })),
      faults: (result?.faults ?? []).map((f) => f.toJSON()),
    };
    this.deps.logger.info(
      {
        round: summary.round,
        outcome: outcome.kind,
        ...(outcome.kind === 'aborted' ? { code: outcome.error.code } : {}),
        survivors: survivors.size,
        sampled: sampled.length,
        stages: summary.secagg.stages.map((t) => `${t.stage} ${t.answered}/${t.expected}`).join(', '),
        faults: summary.secagg.faults.length,
      },
      `secure aggregation round ${summary.round}: ${outcome.kind}, ${survivors.size}/${sampled.length} clients in the sum`,
    );
  }
}
