/** A client's data partition, described without the data: a hash and a size. */
export interface PartitionFingerprint {
  clientId: string;
  /** Hex sha256 over the client's partition (computed client-side; never the data). */
  sha256: string;
  /** Number of examples in the partition. */
  examples: number;
}

/**
 * The data an evaluation metric was measured on: the coordinator's own test set (server-side
 * evaluation), or the clients' held-out data as the clients reported it (federated evaluation).
 */
export type EvaluationSet = 'server-test-set' | 'clients-held-out';

/** What a job without differential privacy records: `differential_privacy: none`, plainly. */
export const DIFFERENTIAL_PRIVACY = 'none';

/**
 * A model version's client-level differential-privacy guarantee (DP-FedAvg), as the job's RDP
 * accountant computed it for the rounds that produced it, or `none`.
 */
export type DifferentialPrivacy =
  | typeof DIFFERENTIAL_PRIVACY
  | {
      /** `central`: the coordinator added the noise; `distributed`: the clients did, under secure aggregation. */
      mode: 'central' | 'distributed';
      epsilon: number;
      delta: number;
      noiseMultiplier: number;
      clipNorm: number;
      /** Sampling rate of the last round (q). */
      samplingRate: number;
      /** Rounds that released a noised model, this one included. */
      rounds: number;
    };

/** What the coordinator knows about a job when it starts; becomes the run's params and the lineage. */
export interface JobInfo {
  jobId: string;
  /** Registered model name the job's global models are versioned under. */
  modelName: string;
  strategy: string;
  rounds: number;
  /** Clients sampled per round (or the total, as the coordinator counts it). */
  clients: number;
  secureAggregation: boolean;
  /** The full job configuration, recorded as lineage (must not hold secrets). */
  config?: Record<string, unknown>;
  /** Code version (git sha or package version) that trained the model. */
  codeVersion?: string;
  /** The job's DP-FedAvg settings, recorded as run params; absent: no differential privacy. */
  privacy?: {
    mode: 'central' | 'distributed';
    noiseMultiplier: number;
    clipNorm: number;
    delta: number;
    targetEpsilon?: number;
  };
  description?: string;
}

/** One tensor of a model's signature. `-1` in a shape means any size (the batch). */
export interface TensorSignature {
  name: string;
  dtype: 'float32' | 'int32' | 'bool' | 'string';
  shape: number[];
}

/** A model's inputs and outputs, as recorded in the MLmodel `signature`. */
export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

/** Metrics of one round, as logged with `step = round`. */
export interface RoundMetrics {
  round: number;
  metrics: Record<string, number>;
}

/** What the coordinator says about a global model when registering it. */
export interface VersionMetadata {
  round: number;
  /** Evaluation metrics of this global model (the promotion policy reads one of them). */
  metrics: Record<string, number>;
  /** Which data each metric was measured on (keys are metric names); the card states it. */
  metricSources?: Record<string, EvaluationSet>;
  /** Defaults to what the tfjs topology tells (input shape/dtype, last Dense units). */
  signature?: ModelSignature;
  dataPartitions?: PartitionFingerprint[];
  /** How inputs are preprocessed inside the model (e.g. "Rescaling 1/255 layer"). */
  preprocessing?: string;
  /** Known limits, for the model card. */
  limits?: string[];
  /** The (ε, δ) this version was trained under; absent: `none`. */
  privacy?: DifferentialPrivacy;
  tfjsVersion?: string;
}

/** Who moved an alias, when and why. */
export interface AliasMove {
  at: string;
  model: string;
  alias: string;
  /** The version the alias now points at, or null when deleted. */
  version: number | null;
  previous: number | null;
  actor: string;
  reason: string;
}

/** A registered model version as any registry reports it. */
export interface ModelVersionInfo {
  name: string;
  version: number;
  createdAt: string;
  aliases: string[];
  /** Where the version's files live (a folder URI or path). */
  source: string;
  runId?: string;
  metrics: Record<string, number>;
  round?: number;
  jobId?: string;
  tags: Record<string, string>;
}

/** A registered model: its aliases and newest version number. */
export interface RegisteredModelInfo {
  name: string;
  createdAt: string;
  aliases: Record<string, number>;
  latestVersion: number | null;
}
