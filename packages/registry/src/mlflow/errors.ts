import { FedlearnError } from '@fedlearn/core';

/** The HTTP methods MLflow's REST API and artifact proxy use. */
export type Method = 'GET' | 'POST' | 'DELETE' | 'PUT';

/** Statuses worth another attempt: rate limited, or the server (or a proxy before it) failed. */
export const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

const MLFLOW_CODE_TO_FEDLEARN: Record<string, FedlearnError['code']> = {
  RESOURCE_DOES_NOT_EXIST: 'REGISTRY_NOT_FOUND',
  RESOURCE_ALREADY_EXISTS: 'REGISTRY_CONFLICT',
  INVALID_PARAMETER_VALUE: 'INVALID_ARGUMENT',
  BAD_REQUEST: 'INVALID_ARGUMENT',
};

/** A failed answer of one call, as `mlflowError` reads it. */
export interface FailedAnswer {
  method: Method;
  /** The endpoint, e.g. `model-versions/get`. */
  call: string;
  status: number;
  contentType: string;
  text: string;
  attempts: number;
}

/**
 * The typed error for a failed MLflow answer, naming the method and call: MLflow's
 * `{"error_code","message"}` mapped to fedlearn codes; a refused Host header (MLflow 3.5+)
 * explained; a body without an `error_code` (an HTML page) is REGISTRY_BAD_RESPONSE.
 *
 * @example mlflowError({ method: 'GET', call: 'runs/get', status: 404, contentType: 'application/json', text, attempts: 1 }, 'http://mlflow:5000')
 */
export function mlflowError(answer: FailedAnswer, server: string): FedlearnError {
  const { method, call, status, contentType, text, attempts } = answer;
  let mlflowCode: string | undefined;
  let message = '';
  if (contentType.includes('json')) {
    try {
      const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      mlflowCode = typeof parsed.error_code === 'string' ? parsed.error_code : undefined;
      message = typeof parsed.message === 'string' ? parsed.message : '';
    } catch {
      // no error_code: reported as a bad response below
    }
  }
  const details = { call, method, status, mlflowErrorCode: mlflowCode, attempts };
  const where = `MLflow ${method} ${call}`;
  if (status === 403 && text.includes('Invalid Host header')) {
    const host = new URL(server).host;
    return new FedlearnError(
      'REGISTRY_UNAVAILABLE',
      `${where}: 403, the server refused our Host header (start MLflow 3.5+ with --allowed-hosts including ${host})`,
      { details },
    );
  }
  if (RETRYABLE_STATUSES.has(status)) {
    return new FedlearnError(
      'REGISTRY_UNAVAILABLE',
      `${where}: ${status} ${mlflowCode ?? ''} after ${attempts} attempts ${message}`.trim(),
      { details },
    );
  }
  if (mlflowCode === undefined) {
    return new FedlearnError(
      'REGISTRY_BAD_RESPONSE',
      `${where}: ${status} answered ${contentType || 'no content type'}, not JSON with an error_code: is ${server} an MLflow tracking server?`,
      { details },
    );
  }
  const code =
    MLFLOW_CODE_TO_FEDLEARN[mlflowCode] ??
    (status === 401 || status === 403 ? 'REGISTRY_UNAVAILABLE' : 'REGISTRY_BAD_RESPONSE');
  return new FedlearnError(code, `${where}: ${status} ${mlflowCode}: ${message}`, { details });
}
