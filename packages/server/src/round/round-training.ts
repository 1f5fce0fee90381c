import type {
  ClientInfo,
  Clock,
  DataFingerprint,
  FitRes,
  SecAggEnvelope,
  Strategy,
  TensorSpec,
} from '@fedlearn/core';
import type { Logger } from 'pino';
import type { ClientRegistry, RegisteredClient } from '../client-registry.js';
import type { CoordinatorEvent, RoundSummary } from '../events.js';
import type { JobSpec } from '../job-spec.js';
import type { ClientRecords } from '../sampling/client-records.js';

/** The global model between rounds. */
export interface GlobalModel {
  specs: TensorSpec[];
  topology: Record<string, unknown> | undefined;
  flat: Float32Array;
}

/** What a round's training needs from its job. */
export interface TrainingDeps {
  jobId: string;
  spec: JobSpec;
  strategy: Strategy;
  clients: ClientRegistry;
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  /** Data fingerprints of the clients whose updates shaped the model (lineage). */
  contributors: Map<string, DataFingerprint>;
  /** Per-client speed and reliability, updated as clients answer or miss rounds. */
  records?: ClientRecords;
  emit: (event: CoordinatorEvent) => void;
}

export interface TrainingRound {
  round: number;
  sampled: readonly string[];
  /** Over-selection: close the round once this many updates arrived (default: all sampled). */
  quorum?: number;
  global: GlobalModel;
  /** Filled in with who took part and what it cost. */
  summary: RoundSummary;
}

/**
 * How a round turns the sampled clients' local training into the next global model: plain
 * (clients upload their weights, the strategy folds them) or secure (SecAgg+, only the sum is
 * revealed). A job picks one for all its rounds; the round loop does not know which.
 */
export interface RoundTraining {
  /** The clients this kind of round can sample. */
  eligible(clients: readonly ClientInfo[]): ClientInfo[];
  /** Trains one round; resolves with the new global weights, or throws the typed reason the round failed. */
  run(round: TrainingRound): Promise<{ params: Float32Array; metrics: Record<string, number> }>;
  /** A fit result or a secure-aggregation message from a registered client. */
  handle(client: RegisteredClient, message: FitRes | SecAggEnvelope): void;
  /** A client reported (or caused) an error for this job and round. */
  onClientError(clientId: string, jobId: string | undefined, round: number | undefined): void;
  clientLeft(clientId: string): void;
  /** Ends the round in progress (job cancelled). */
  cancel(): void;
}
