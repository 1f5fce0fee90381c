import type { FedlearnError } from '../errors.js';
import type { SecAggServerMessage } from './messages.js';

/** Where the server round is: the stage whose client messages it accepts, or its end. */
export type SecAggStage =
  | 'advertise-keys'
  | 'share-keys'
  | 'masked-input'
  | 'consistency'
  | 'unmask'
  | 'done'
  | 'aborted';

/** One message for one client, to be routed by the coordinator. */
export interface SecAggOutbound {
  readonly to: string;
  readonly message: SecAggServerMessage;
}

/** The round's outcome: Σw and Σ w·update over the survivors, dequantized, so FedAvg can divide. */
export interface SecAggResult {
  readonly round: number;
  readonly sumWeights: number;
  readonly weightedSum: Float64Array;
  /** The exact sum [Σw, Σ w·q_1, ...] in Z_(2^b) before dequantization. */
  readonly ringSum: Uint32Array;
  /** Clients whose update is in the sum. */
  readonly survivors: readonly string[];
  /** Participants whose update is not in the sum. */
  readonly dropped: readonly string[];
  /** Bad shares that were detected, attributed and left out without changing the sum. */
  readonly faults: readonly FedlearnError[];
}

/** What the coordinator does next: wait, send these messages, or finish. */
export type SecAggServerStep =
  | { readonly kind: 'pending'; readonly stage: SecAggStage }
  | { readonly kind: 'send'; readonly stage: SecAggStage; readonly messages: readonly SecAggOutbound[] }
  | { readonly kind: 'done'; readonly result: SecAggResult }
  | { readonly kind: 'aborted'; readonly error: FedlearnError };
