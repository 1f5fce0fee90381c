import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { registerStandInRoutes } from './mlflow-standin-routes.js';
import { MlflowApiError, StandInState } from './mlflow-standin-state.js';

/** A canned failure: the next `times` requests matching `method` and `path` get `status`. */
export interface StandInFault {
  /** Matched against the path without query: a full path or an endpoint suffix like `runs/create`. */
  path: string;
  method?: string;
  status: number;
  times?: number;
  errorCode?: string;
  message?: string;
  /**
   * Let the request take effect, then answer with the fault instead of the result: a 5xx whose
   * request did reach MLflow (the case that makes blind retries of creates unsafe).
   */
  afterHandling?: boolean;
}

/** How the stand-in behaves: artifact proxying, Host check, canned faults, clock. */
export interface StandInOptions {
  /** Serve artifacts through `mlflow-artifacts:` (as `mlflow server` does by default); else `artifactRoot`. */
  proxyArtifacts?: boolean;
  /** Artifact root when not proxying, e.g. `s3://mlflow`. */
  artifactRoot?: string;
  /** Like MLflow 3.5+ `--allowed-hosts`: requests with another Host header get 403. */
  allowedHosts?: string[];
  faults?: StandInFault[];
  now?: () => number;
}

/** A running stand-in: its URL, inspectable state, the requests it saw, and fault injection. */
export interface MlflowStandIn {
  url: string;
  state: StandInState;
  /** Every request seen: method, path, content type, host. */
  requests: { method: string; path: string; contentType: string | undefined; host: string | undefined }[];
  injectFault(fault: StandInFault): void;
  close(): Promise<void>;
}

const DEFAULT_CODES: Record<number, string> = {
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  503: 'TEMPORARILY_UNAVAILABLE',
};

const INVALID_HOST_MSG = 'Invalid Host header - possible DNS rebinding attack detected';

function hostAllowed(host: string | undefined, allowed: string[]): boolean {
  if (!host) return false;
  return allowed.some((pattern) =>
    pattern.includes('*')
      ? new RegExp(
          `^${pattern
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ).test(host)
      : host === pattern,
  );
}

/**
 * Starts an in-process STAND-IN for an MLflow tracking server's REST API (not MLflow itself),
 * following MLflow's documented paths, request fields, status codes and error bodies:
 * duplicate creates → 400 RESOURCE_ALREADY_EXISTS; unknown experiment/run/model → 404
 * RESOURCE_DOES_NOT_EXIST; missing alias → 400 INVALID_PARAMETER_VALUE; POST without
 * `Content-Type: application/json` → 400; proxied artifacts under `mlflow-artifacts:/<exp>/<run>/artifacts`
 * (a missing one → 500); unknown routes → HTML 404, another method on a known route → HTML 405;
 * optional Host header check (403). Like MLflow, only `model-versions/get` and
 * `GET registered-models/alias` fill in a version's `aliases` (search results never do).
 * Every route was audited against MLflow's source; the differences found, what was changed and
 * what was kept are listed in docs/model-lifecycle.md ("How faithful the stand-in is").
 *
 * @example
 * const mlflow = await startMlflowStandIn({ proxyArtifacts: true });
 * mlflow.injectFault({ path: 'runs/create', status: 429 });
 * // ... MLFLOW_TRACKING_URI = mlflow.url
 * await mlflow.close();
 */
export async function startMlflowStandIn(options: StandInOptions = {}): Promise<MlflowStandIn> {
  const proxy = options.proxyArtifacts ?? true;
  const state = new StandInState(
    proxy ? 'mlflow-artifacts:' : (options.artifactRoot ?? 's3://mlflow'),
    options.now ?? Date.now,
  );
  const faults: (StandInFault & { times: number })[] = [];
  const lostAnswers = new WeakMap<FastifyRequest, StandInFault>();
  const faultBody = (fault: StandInFault) => ({
    error_code: fault.errorCode ?? DEFAULT_CODES[fault.status] ?? 'INTERNAL_ERROR',
    message: fault.message ?? 'injected by the stand-in',
  });
  const requests: MlflowStandIn['requests'] = [];
  const app = Fastify({ logger: false, bodyLimit: 512 * 1024 * 1024 });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const injectFault = (fault: StandInFault) => faults.push({ ...fault, times: fault.times ?? 1 });
  for (const fault of options.faults ?? []) injectFault(fault);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    requests.push({
      method: request.method,
      path,
      contentType: request.headers['content-type'],
      host: request.headers.host,
    });
    if (
      options.allowedHosts &&
      path !== '/health' &&
      path !== '/version' &&
      !hostAllowed(request.headers.host, options.allowedHosts)
    ) {
      return reply.code(403).type('text/plain').send(INVALID_HOST_MSG);
    }
    const fault = faults.find(
      (f) =>
        f.times > 0 &&
        (path === f.path || path.endsWith(`/${f.path}`)) &&
        (!f.method || f.method === request.method),
    );
    if (fault) {
      fault.times--;
      if (fault.afterHandling) {
        lostAnswers.set(request, fault);
        return undefined;
      }
      return reply.code(fault.status).type('application/json').send(faultBody(fault));
    }
    return undefined;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const fault = lostAnswers.get(request);
    if (!fault) return payload;
    reply.code(fault.status).type('application/json');
    return JSON.stringify(faultBody(fault));
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof MlflowApiError) {
      return reply
        .code(error.status)
        .type('application/json')
        .send({ error_code: error.errorCode, message: error.message });
    }
    return reply
      .code(500)
      .type('text/html')
      .send('<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>');
  });

  let knownPath: (path: string) => boolean = () => false;
  app.setNotFoundHandler((request, reply) =>
    knownPath(request.url.split('?')[0]!)
      ? reply
          .code(405)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n',
          )
      : reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n',
          ),
  );

  knownPath = registerStandInRoutes(app, state, { proxyArtifacts: proxy });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    url: address.startsWith('http') ? `http://127.0.0.1:${port}` : address,
    state,
    requests,
    injectFault,
    close: () => app.close(),
  };
}
