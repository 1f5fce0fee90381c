import {
  type Clock,
  type EvaluateRes,
  encodeParams,
  FedlearnError,
  type Rng,
  type Strategy,
  unflattenParams,
} from '@fedlearn/core';
import type { ClientRegistry, RegisteredClient } from '../client-registry.js';
import { refuseStale } from '../connection.js';
import type { RoundSummary, ServerEvaluator } from '../events.js';
import type { JobSpec } from '../job-spec.js';
import { Phase } from './phase.js';
import type { GlobalModel } from './round-training.js';

/** What evaluating a round's new global model needs. */
export interface EvaluationDeps {
  jobId: string;
  spec: JobSpec;
  strategy: Strategy;
  clients: ClientRegistry;
  clock: Clock;
  evaluator: ServerEvaluator | undefined;
}

/**
 * Evaluates each new global model: federated evaluation on the sampled clients' held-out data
 * (when the job asks for it), then the coordinator's own evaluator (when it has one). The
 * headline `accuracy`/`loss` of the round come from the server-side set when there is one.
 */
export class RoundEvaluation {
  private phase: Phase<EvaluateRes> | undefined;

  constructor(private readonly deps: EvaluationDeps) {}

  async run(round: number, model: GlobalModel, summary: RoundSummary, rng: Rng): Promise<void> {
    const { spec, evaluator } = this.deps;
    if (spec.federatedEvaluation) await this.federated(round, model, summary, rng);
    if (evaluator) summary.server = await evaluator(unflattenParams(model.flat, model.specs), round);
    const headline = summary.server ?? summary.federated;
    if (headline) {
      summary.loss = headline.loss;
      if (typeof headline.accuracy === 'number') summary.accuracy = headline.accuracy;
    }
  }

  private async federated(round: number, model: GlobalModel, summary: RoundSummary, rng: Rng) {
    const { jobId, spec, strategy, clients, clock } = this.deps;
    const chosen = strategy.configureEvaluate(round, clients.ready(), rng);
    const phase = new Phase<EvaluateRes>('evaluate', jobId, round, chosen, spec.evaluateTimeoutMs, clock);
    this.phase = phase;
    const bytes = encodeParams(unflattenParams(model.flat, model.specs));
    for (const clientId of chosen) {
      const client = clients.get(clientId);
      if (!client) {
        phase.drop(clientId);
        continue;
      }
      summary.bytesDown += client.connection.send({
        type: 'evaluate_ins',
        jobId,
        round,
        deadline: phase.deadline,
        config: { batchSize: spec.fit.batchSize },
        params: bytes,
      });
    }
    await phase.closed;
    this.phase = undefined;
    const federated = strategy.aggregateEvaluate(
      round,
      [...phase.results].map(([clientId, r]) => ({
        clientId,
        numExamples: r.numExamples,
        loss: r.loss,
        metrics: r.metrics,
      })),
    );
    if (federated) {
      summary.federated = { loss: federated.loss, numExamples: federated.numExamples, ...federated.metrics };
    }
  }

  /** An `evaluate_res` from a registered client; `currentRound` names the job's round when none is open. */
  handle(client: RegisteredClient, message: EvaluateRes, currentRound: number | undefined): void {
    const phase = this.phase;
    const where = { jobId: message.jobId, round: message.round };
    if (!phase?.isOpen || phase.jobId !== message.jobId || phase.round !== message.round) {
      return refuseStale(client.connection, 'evaluate_res', where, phase?.round ?? currentRound);
    }
    if (!phase.pending.has(client.info.clientId)) {
      return client.connection.refuse(
        new FedlearnError('NOT_SAMPLED', 'no evaluation is expected from this client'),
        'evaluate_res',
        where,
      );
    }
    phase.succeed(client.info.clientId, message);
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
}
