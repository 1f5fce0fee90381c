/** The canonical gRPC status names (google.rpc.Code), for codes answered over gRPC. */
export type GrpcStatusName =
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

export interface ErrorCodeEntry {
  /** One line for people: what went wrong, in the caller's terms. */
  meaning: string;
  /** The status an HTTP API answers with this code. */
  http: number;
  /** The status a gRPC API answers with this code. */
  grpc: GrpcStatusName;
}

/**
 * The error vocabulary: every code fedlearn raises, what it means, and how an HTTP or gRPC API
 * answers it. `docs/errors.md` is generated from this table (`node scripts/error-docs.mjs`), and
 * `errors.test.ts` pins its codes, so removing or renaming one is a visible decision. Statuses
 * follow Google's mapping between gRPC codes and HTTP (AIP-193), with 413 for oversized bodies.
 * A new code goes in one row, before INTERNAL.
 */
export const ERROR_TABLE = {
  // configuration and generic input
  INVALID_CONFIG: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'A configuration value or job spec is invalid.',
  },
  INVALID_ARGUMENT: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'An argument or field is out of its allowed range or form.',
  },
  // parameters and the wire codec
  PARAMS_BAD_MAGIC: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The bytes are not a fedlearn parameters payload (wrong magic).',
  },
  PARAMS_UNSUPPORTED_VERSION: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The parameters payload uses a format version this build cannot read.',
  },
  PARAMS_UNSUPPORTED_DTYPE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The parameters payload has a tensor dtype other than float32.',
  },
  PARAMS_TRUNCATED: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The parameters payload ends before its header, shapes or values do.',
  },
  PARAMS_TOO_LARGE: {
    http: 413,
    grpc: 'RESOURCE_EXHAUSTED',
    meaning: 'The parameters payload is larger than the configured limit.',
  },
  PARAMS_SHAPE_MISMATCH: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: "The tensors' names or shapes differ from the model's.",
  },
  PARAMS_HASH_MISMATCH: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The parameters payload does not match its SHA-256 (corrupted in transit).',
  },
  PARAMS_NOT_FINITE: { http: 400, grpc: 'INVALID_ARGUMENT', meaning: 'A parameter is NaN or infinite.' },
  // protocol
  PROTOCOL_VERSION_MISMATCH: {
    http: 400,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'The peer speaks another major protocol version; upgrade the older side.',
  },
  MALFORMED_MESSAGE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'A message or request is not valid (schema, frame or JSON).',
  },
  PAYLOAD_TOO_LARGE: {
    http: 413,
    grpc: 'RESOURCE_EXHAUSTED',
    meaning: 'A message or request body is larger than the configured limit.',
  },
  UNAUTHORIZED: { http: 401, grpc: 'UNAUTHENTICATED', meaning: 'The token is missing or wrong.' },
  UNKNOWN_CLIENT: {
    http: 400,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'The client sent a message before saying hello.',
  },
  DUPLICATE_CLIENT: {
    http: 409,
    grpc: 'ALREADY_EXISTS',
    meaning: 'Another connection said hello with this client id; this one is closed.',
  },
  STALE_ROUND: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'The result is for a round or job that is not accepting it.',
  },
  NOT_SAMPLED: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'The client was not asked for a result in this round.',
  },
  DUPLICATE_UPDATE: {
    http: 409,
    grpc: 'ALREADY_EXISTS',
    meaning: 'The client already sent its result for this round.',
  },
  ROUND_ABORTED: {
    http: 409,
    grpc: 'ABORTED',
    meaning: 'The round ended without a result (e.g. the job was cancelled).',
  },
  DEADLINE_EXCEEDED: {
    http: 504,
    grpc: 'DEADLINE_EXCEEDED',
    meaning:
      'A request was not answered before its deadline (e.g. a prediction waiting in a full batch queue).',
  },
  QUORUM_NOT_REACHED: {
    http: 503,
    grpc: 'UNAVAILABLE',
    meaning: 'Too few clients connected or answered before the deadline.',
  },
  JOB_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', meaning: 'No job has this id.' },
  JOB_CONFLICT: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    meaning:
      'The job is in a state that does not allow this (e.g. resuming a finished job), or its id exists.',
  },
  TRANSPORT_CLOSED: { http: 503, grpc: 'UNAVAILABLE', meaning: 'The connection to the peer is closed.' },
  TRAINING_FAILED: {
    http: 500,
    grpc: 'INTERNAL',
    meaning: "The client's local training or evaluation failed.",
  },
  // aggregation
  AGGREGATION_EMPTY: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'There is nothing to aggregate (no update, or zero total weight).',
  },
  STRATEGY_INCOMPATIBLE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning:
      'The strategy cannot run with these options (e.g. needs individual updates under secure aggregation).',
  },
  // secure aggregation
  SECAGG_CONFIG_OVERFLOW: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The secure-aggregation settings could overflow the quantized sum or break its threshold rule.',
  },
  SECAGG_WEIGHT_TOO_LARGE: {
    http: 400,
    grpc: 'OUT_OF_RANGE',
    meaning: "A client's weight is larger than the round's maximum.",
  },
  SECAGG_BAD_KEY: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'A public key is invalid, used for two purposes, or sent by an unexpected client.',
  },
  SECAGG_BAD_SHARE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'A secret share is malformed or not for this round and pair.',
  },
  SECAGG_INCONSISTENT_SHARES: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: "Shares of one client's secret do not reconstruct one value.",
  },
  SECAGG_DECRYPTION_FAILED: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'An encrypted share failed authentication.',
  },
  SECAGG_BAD_VECTOR: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'A masked vector has the wrong length or values outside the field.',
  },
  SECAGG_WRONG_STAGE: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'A secure-aggregation message arrived at the wrong stage.',
  },
  SECAGG_BELOW_THRESHOLD: {
    http: 409,
    grpc: 'ABORTED',
    meaning: 'Too few clients survived a stage to unmask the sum; the round aborted.',
  },
  // model lifecycle
  ARTIFACT_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', meaning: 'No model artifact exists at this location.' },
  ARTIFACT_CHECKSUM_MISMATCH: {
    http: 500,
    grpc: 'DATA_LOSS',
    meaning: 'A stored artifact differs from its manifest (missing, extra or altered file).',
  },
  ARTIFACT_STORE_UNAVAILABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    meaning: 'The artifact store (local folder or S3) cannot be reached.',
  },
  REGISTRY_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    meaning: 'No registered model, version or alias has this name.',
  },
  REGISTRY_CONFLICT: {
    http: 409,
    grpc: 'ALREADY_EXISTS',
    meaning: 'The registry already holds something with this name.',
  },
  REGISTRY_UNAVAILABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    meaning: 'The model registry (local or MLflow) cannot be reached.',
  },
  REGISTRY_BAD_RESPONSE: {
    http: 502,
    grpc: 'UNKNOWN',
    meaning: 'The model registry answered something this client cannot read.',
  },
  MODEL_FORMAT_INVALID: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'A model folder or MLmodel file is malformed.',
  },
  // the control API's HTTP edges, unfinished transfers and TLS (issue 7)
  ROUTE_NOT_FOUND: {
    http: 404,
    grpc: 'UNIMPLEMENTED',
    meaning: 'No API route has this path.',
  },
  METHOD_NOT_ALLOWED: {
    http: 405,
    grpc: 'UNIMPLEMENTED',
    meaning: 'The route exists but not for this HTTP method.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    http: 415,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The request body is not in a content type the route accepts (send application/json).',
  },
  URI_TOO_LONG: {
    http: 414,
    grpc: 'INVALID_ARGUMENT',
    meaning: 'The request URL or one of its path segments is too long.',
  },
  HEADERS_TOO_LARGE: {
    http: 431,
    grpc: 'RESOURCE_EXHAUSTED',
    meaning: 'The request headers are too large.',
  },
  TRANSFER_INCOMPLETE: {
    http: 408,
    grpc: 'DEADLINE_EXCEEDED',
    meaning: 'A request or a chunked transfer was not completed in time.',
  },
  TLS_CERT_UNTRUSTED: {
    http: 502,
    grpc: 'UNAVAILABLE',
    meaning: "The server's TLS certificate is not trusted by this client (pass its CA with --ca).",
  },
  // secure aggregation against active adversaries (issue 8)
  SECAGG_INPUT_OUT_OF_RANGE: {
    http: 422,
    grpc: 'INVALID_ARGUMENT',
    meaning:
      'The unmasked sum exceeds what honest inputs allow (a client sent values outside the clip range).',
  },
  SECAGG_GRAPH_DISCONNECTED: {
    http: 409,
    grpc: 'ABORTED',
    meaning:
      'The surviving clients are not connected in the neighbour graph; the round aborted before unmasking.',
  },
  SECAGG_POLICY_REFUSED: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    meaning: "The client's own policy refuses the task or its secure-aggregation setup.",
  },
  SECAGG_BAD_SIGNATURE: {
    http: 401,
    grpc: 'UNAUTHENTICATED',
    meaning: "A signature or identity key does not match the client's enrolled identity.",
  },
  SECAGG_INCONSISTENT_VIEW: {
    http: 409,
    grpc: 'ABORTED',
    meaning: 'Fewer than t valid signatures over one survivor set, or an unmask request that contradicts it.',
  },
  // serving (issue 9)
  MODEL_NOT_SERVED: {
    http: 404,
    grpc: 'NOT_FOUND',
    meaning: 'No served model (or version of it) has this name.',
  },
  MODEL_NOT_READY: {
    http: 503,
    grpc: 'UNAVAILABLE',
    meaning: 'The model is known but not loaded and warmed up yet.',
  },
  MODEL_VERSION_REFUSED: {
    http: 422,
    grpc: 'FAILED_PRECONDITION',
    meaning: 'A new model version failed its checks and was not swapped in; the old one keeps serving.',
  },
  INPUT_SIGNATURE_MISMATCH: {
    http: 422,
    grpc: 'INVALID_ARGUMENT',
    meaning:
      "An input (a prediction request, or a client's training data) does not match the model's signature (shape, datatype or feature names).",
  },
  SERVING_QUEUE_FULL: {
    http: 503,
    grpc: 'RESOURCE_EXHAUSTED',
    meaning: "The model's request queue is full; retry with backoff.",
  },
  RATE_LIMITED: {
    http: 429,
    grpc: 'RESOURCE_EXHAUSTED',
    meaning: 'This caller sent more requests than its rate limit allows; retry later.',
  },
  // the coordinator's durable state (issue 11)
  STORE_CORRUPT: {
    http: 500,
    grpc: 'DATA_LOSS',
    meaning: 'Stored coordinator state failed its checksum or schema when read back.',
  },
  STORE_UNAVAILABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    meaning:
      'The coordinator state store cannot be opened or reached (database down, folder locked, schema newer).',
  },
  ROUND_ALREADY_COMPLETED: {
    http: 409,
    grpc: 'ALREADY_EXISTS',
    meaning: 'A different result for, or a restart of, a round that is already completed was refused.',
  },
  // the control API's job creation (issue 11)
  IDEMPOTENCY_KEY_REUSED: {
    http: 409,
    grpc: 'ALREADY_EXISTS',
    meaning: 'This Idempotency-Key already created a job from a different request; use a new key.',
  },
  // client identity and control-API scopes (issue 11)
  FORBIDDEN: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    meaning: 'The token is valid but its scope does not allow this (e.g. a read-only token changing state).',
  },
  CLIENT_REVOKED: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    meaning: "The client's enrollment was revoked: it is cut off and may not connect again.",
  },
  CLIENT_NOT_ENROLLED: {
    http: 404,
    grpc: 'NOT_FOUND',
    meaning: 'No client is enrolled with this id.',
  },
  // large-model transfer and churn (issue 11)
  TRANSFER_CHECKSUM_MISMATCH: {
    http: 400,
    grpc: 'DATA_LOSS',
    meaning:
      "A chunked transfer's bytes do not match the SHA-256 its sender announced; nothing of it was used.",
  },
  HEARTBEAT_MISSED: {
    http: 408,
    grpc: 'DEADLINE_EXCEEDED',
    meaning: 'The client sent nothing (not even a heartbeat) for too long and was disconnected.',
  },
  PRIVACY_BUDGET_EXCEEDED: {
    http: 422,
    grpc: 'FAILED_PRECONDITION',
    meaning:
      'A private job would spend more than its target ε (differential privacy budget), so it was refused.',
  },
  // anything we did not anticipate, wrapped so callers still get a code
  INTERNAL: {
    http: 500,
    grpc: 'INTERNAL',
    meaning: 'An unexpected failure; the message says what happened.',
  },
} as const satisfies Record<string, ErrorCodeEntry>;
