/**
 * The contract between the model-serving core (model registry watching, hot swap, dynamic batching)
 * and the protocol front ends (REST, GraphQL, gRPC, Redis Streams, offline prediction).
 * Every front end speaks only to an `InferenceService`; none loads models or batches by itself.
 *
 * Tensor names, datatypes and shapes follow the Open Inference Protocol v2 (KServe/Triton/MLServer).
 */

/** OIP v2 tensor datatypes. Models we serve take FP32 inputs; others are refused with a clear error. */
export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** One named tensor, row-major. `shape[0]` is the batch dimension. */
export interface NamedTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: Float32Array;
}

/** What a model takes and returns, from its MLmodel signature. `-1` marks the batch dimension. */
export interface TensorSpec {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  /** Per-feature names when the signature has them (e.g. columns of a tabular model). */
  featureNames?: string[];
}

export interface ServedModelInfo {
  name: string;
  /** The registry version now serving requests. */
  version: string;
  /** The alias this model is served under (`champion` by default), or undefined when pinned to a version. */
  alias?: string;
  platform: 'tfjs';
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  ready: boolean;
  /** Where the version came from (training job, round, run), when the registry recorded it. */
  lineage?: ModelLineage;
}

/** How a served version was produced, from its registry record and MLmodel. */
export interface ModelLineage {
  jobId?: string;
  runId?: string;
  round?: number;
  createdAt: string;
  strategy?: string;
  secureAggregation?: boolean;
  /** Evaluation metrics of this version. */
  metrics: Record<string, number>;
}

/** Metrics of one registered version of the same job: one entry per training round that registered a model. */
export interface RoundMetricsEntry {
  round: number;
  version: string;
  metrics: Record<string, number>;
}

export type ExplanationMethod = 'integrated-gradients' | 'gradient-x-input';

export interface ExplainRequest {
  model: string;
  version?: string;
  id?: string;
  /** One instance, flattened to the model's input width. */
  instance: Float32Array;
  /** Output index to explain; the predicted class by default. */
  target?: number;
  method?: ExplanationMethod;
  /** Integration steps (integrated gradients only). */
  steps?: number;
}

export interface Explanation {
  id?: string;
  model: string;
  version: string;
  method: ExplanationMethod;
  target: number;
  probabilities: number[];
  /** One attribution per input feature, in input order. */
  attributions: Float32Array;
}

export interface InferenceRequest {
  model: string;
  /** Pin a version; by default the version the alias points at now. */
  version?: string;
  /** Caller's request id, echoed in logs and in the response. */
  id?: string;
  inputs: NamedTensor[];
}

export interface InferenceResult {
  id?: string;
  model: string;
  /** The version that produced these outputs (the one the request started on, even across a swap). */
  version: string;
  outputs: NamedTensor[];
}

export interface InferOptions {
  /** Absolute deadline (ms since epoch, from the service's clock). */
  deadline?: number;
  signal?: AbortSignal;
}

export interface ModelSwapEvent {
  model: string;
  previousVersion?: string;
  version: string;
  at: number;
}

/** The one interface every protocol front end uses. Errors are `FedlearnError`s with stable codes. */
export interface InferenceService {
  listModels(): ServedModelInfo[];
  /** Throws a typed not-found error for an unknown model or version. */
  modelInfo(name: string, version?: string): ServedModelInfo;
  isLive(): boolean;
  isReady(name?: string, version?: string): boolean;
  infer(request: InferenceRequest, options?: InferOptions): Promise<InferenceResult>;
  /** Subscribe to swaps; returns an unsubscribe function. */
  onSwap(listener: (event: ModelSwapEvent) => void): () => void;
  /** Per-feature attribution for one instance (added for REST/GraphQL explain; optional for stand-ins). */
  explain?(request: ExplainRequest): Promise<Explanation>;
  /** Metrics per round of the job that produced the served version (optional for stand-ins). */
  trainingHistory?(name: string): Promise<RoundMetricsEntry[]>;
}
