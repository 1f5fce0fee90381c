import { type ErrorCode, FedlearnError } from '../errors.js';

/** A typed secure-aggregation error; `clientId` names the client at fault when there is one. */
export function secaggError(
  code: ErrorCode,
  message: string,
  clientId?: string,
  details: Record<string, unknown> = {},
): FedlearnError {
  return new FedlearnError(code, message, {
    details: clientId === undefined ? details : { clientId, ...details },
  });
}
