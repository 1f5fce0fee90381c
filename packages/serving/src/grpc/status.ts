import { grpcStatusOf, isFedlearnError, toFedlearnError } from '@fedlearn/core';
import { status } from '@grpc/grpc-js';

export interface GrpcError {
  code: status;
  details: string;
}

/** The status a failed call ends with. Unexpected errors say only INTERNAL: their messages stay in the log. */
export function toGrpcError(error: unknown): GrpcError {
  if (!isFedlearnError(error)) return { code: status.INTERNAL, details: 'INTERNAL: internal error' };
  const fedlearn = toFedlearnError(error);
  return {
    // The status comes from core's error table, the one place every API's statuses are decided.
    code: status[grpcStatusOf(fedlearn.code)],
    details: `${fedlearn.code}: ${fedlearn.message}`,
  };
}
