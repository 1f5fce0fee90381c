import type { ModelParams, TensorSpec } from '../params/tensors.js';
import type { TransferSettings } from '../protocol/frame-sender.js';
import type { ClientMessage, FitConfig } from '../protocol/messages.js';
import type { DataFingerprint } from '../strategy/types.js';

/** The wire to the coordinator. Framing and reconnection are the transport's job. */
export interface SessionTransport {
  send(message: ClientMessage): Promise<void>;
}

export interface FitOutcome {
  params: ModelParams;
  numExamples: number;
  metrics: Record<string, number>;
}

export interface EvaluateOutcome {
  numExamples: number;
  loss: number;
  metrics: Record<string, number>;
}

/**
 * Local training on the client's own data. The Node client implements it with tfjs; tests and
 * simulations can implement it with plain arithmetic.
 */
export interface Trainer {
  readonly numExamples: number;
  readonly numEvalExamples: number;
  readonly backend: string;
  /** Hash and size of the training data, sent in the hello for model lineage. */
  readonly dataFingerprint?: DataFingerprint;
  /** Weight names and shapes in the model's weight order. */
  specs(): TensorSpec[];
  /** The model's current weights and its Keras-style topology (for the coordinator's first model). */
  getParameters(): Promise<{ params: ModelParams; modelTopology: Record<string, unknown> }>;
  fit(params: ModelParams, config: FitConfig): Promise<FitOutcome>;
  evaluate(params: ModelParams, config: { batchSize: number }): Promise<EvaluateOutcome>;
}

/** What a session reports to whoever drives it (logs, progress bars, tests). */
export type SessionEvent =
  | {
      type: 'welcome';
      serverId: string;
      heartbeatIntervalMs: number;
      /** The chunked-transfer settings the coordinator chose (absent: an older coordinator). */
      transfer?: TransferSettings;
    }
  | { type: 'fit_start'; jobId: string; round: number }
  | {
      type: 'fit_done';
      jobId: string;
      round: number;
      numExamples: number;
      metrics: Record<string, number>;
      bytesUp: number;
    }
  | { type: 'evaluate_done'; jobId: string; round: number; loss: number; metrics: Record<string, number> }
  | { type: 'task_skipped'; kind: string; jobId: string; round: number; reason: string }
  | { type: 'server_error'; code: string; message: string; fatal: boolean }
  | { type: 'task_failed'; kind: string; code: string; message: string };
