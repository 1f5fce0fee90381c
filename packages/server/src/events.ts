import type { ModelParams, PrivacySpent, StrategyState, WireError } from '@fedlearn/core';
import type { JobSpec } from './job-spec.js';

export type JobStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

/** What one round did: who took part, what it cost, how good the new model is. */
export interface RoundSummary {
  round: number;
  status: 'ok' | 'failed';
  sampled: number;
  /** The sampled clients' ids. */
  participants?: string[];
  completed: number;
  /** Clients that disconnected before answering. */
  dropped: number;
  /** Clients whose update was refused or who reported an error. */
  failed: number;
  /** Clients still silent at the deadline. */
  timedOut: number;
  trainLoss?: number;
  trainMetrics?: Record<string, number>;
  /** Headline metrics: server-side test set when there is one, else federated evaluation. */
  accuracy?: number;
  loss?: number;
  federated?: { loss: number; numExamples: number; [metric: string]: number };
  server?: { loss: number; accuracy?: number; [metric: string]: number | undefined };
  seconds: number;
  /** Wall time of the round's stages, in seconds: training (with aggregation), evaluation, checkpoint. */
  stageSeconds?: Record<string, number>;
  /** Coordinator time spent folding updates into the new model (plain rounds). */
  aggregationSeconds?: number;
  bytesUp: number;
  bytesDown: number;
  checkpoint?: string;
  /** The registered model version of this round's global model. */
  model?: {
    name: string;
    version: number;
    uri: string;
    source: string;
    aliases: string[];
    promoted: boolean;
  };
  registryError?: WireError;
  error?: WireError;
  /** Private jobs: the (ε, δ) spent so far, this round included. */
  privacy?: PrivacySpent;
  /** Secure rounds: how many clients each SecAgg+ stage waited for and heard, and detected bad shares. */
  secagg?: {
    survivors: number;
    stages: { stage: string; expected: number; answered: number }[];
    faults: WireError[];
  };
}

export interface JobState {
  id: string;
  spec: JobSpec;
  status: JobStatus;
  /** Higher runs first among queued jobs; equal priorities run in submission order. */
  priority: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  currentRound?: number;
  rounds: RoundSummary[];
  /** Private jobs: ε spent, and why the job stopped before its last round if the budget ended it. */
  privacy?: JobPrivacy;
  /** The experiment run recording this job in the model registry. */
  runId?: string;
  error?: WireError;
}

/** A private job's account at its end (or so far). */
export interface JobPrivacy {
  mode: 'central' | 'distributed';
  epsilon: number;
  delta: number;
  targetEpsilon?: number;
  /** Rounds that released a noised model. */
  rounds: number;
  /** Set when the budget stopped the job before its requested rounds. */
  stopped?: { atRound: number; requestedRounds: number; reason: string };
}

/** Server-side evaluation of the global model, e.g. on a held-out test set. */
export type ServerEvaluator = (
  params: ModelParams,
  round: number,
) => Promise<{ loss: number; accuracy?: number; [metric: string]: number | undefined }>;

/** Points of a round where `CoordinatorHooks.hold` is called. */
export type HoldPoint = 'training' | 'aggregation' | 'recorded';

/**
 * Test hooks: `hold` is awaited at each point of each round, so a crash test can stop the
 * coordinator exactly there ('training': fit requests sent, results not yet awaited;
 * 'aggregation': the new model computed, not yet saved; 'recorded': registered, not yet
 * completed in the state store).
 */
export interface CoordinatorHooks {
  hold?: (point: HoldPoint, where: { jobId: string; round: number }) => Promise<void> | void;
}

export type CoordinatorEvent =
  | { type: 'client_joined'; clientId: string; connected: number }
  | { type: 'client_left'; clientId: string; connected: number }
  | { type: 'job_started'; job: JobState }
  /** Any change of a job's status (queued, running, paused, cancelled, ...). */
  | { type: 'job_status'; job: JobState }
  | { type: 'round_started'; jobId: string; round: number; sampled: string[] }
  | {
      type: 'fit_received';
      jobId: string;
      round: number;
      clientId: string;
      completed: number;
      sampled: number;
    }
  | {
      type: 'round_completed';
      job: JobState;
      summary: RoundSummary;
      /** The strategy's state after this round: what a resumed job restores (`Strategy.restore`). */
      strategyState: StrategyState;
    }
  | { type: 'job_finished'; job: JobState };
