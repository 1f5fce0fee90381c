import { type ErrorCode, isFedlearnError, toFedlearnError } from '@fedlearn/core';
import { status } from '@grpc/grpc-js';

/** gRPC status per FedlearnError code a serving call can end with; any other code is INTERNAL. */
const GRPC_STATUS: Partial<Record<ErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  MALFORMED_MESSAGE: status.INVALID_ARGUMENT,
  INPUT_SIGNATURE_MISMATCH: status.INVALID_ARGUMENT,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  SERVING_QUEUE_FULL: status.RESOURCE_EXHAUSTED,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  UNAUTHORIZED: status.UNAUTHENTICATED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  MODEL_NOT_SERVED: status.NOT_FOUND,
  REGISTRY_NOT_FOUND: status.NOT_FOUND,
  ARTIFACT_NOT_FOUND: status.NOT_FOUND,
  MODEL_NOT_READY: status.UNAVAILABLE,
  REGISTRY_UNAVAILABLE: status.UNAVAILABLE,
  ARTIFACT_STORE_UNAVAILABLE: status.UNAVAILABLE,
  TRANSPORT_CLOSED: status.UNAVAILABLE,
  MODEL_VERSION_REFUSED: status.FAILED_PRECONDITION,
};

export interface GrpcError {
  code: status;
  details: string;
}

/** The status a failed call ends with. Unexpected errors say only INTERNAL: their messages stay in the log. */
export function toGrpcError(error: unknown): GrpcError {
  if (!isFedlearnError(error)) return { code: status.INTERNAL, details: 'INTERNAL: internal error' };
  const fedlearn = toFedlearnError(error);
  return {
    code: GRPC_STATUS[fedlearn.code] ?? status.INTERNAL,
    details: `${fedlearn.code}: ${fedlearn.message}`,
  };
}
