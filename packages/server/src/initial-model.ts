import {
  type Clock,
  decodeParams,
  FedlearnError,
  flattenParams,
  getParametersResSchema,
  type ModelParams,
  specsOf,
} from '@fedlearn/core';
import type { Logger } from 'pino';
import type { ClientRegistry } from './client-registry.js';
import type { JobSpec } from './job-spec.js';
import type { GlobalModel } from './round/round-training.js';

/** What finding the first global model needs. */
export interface InitialModelDeps {
  jobId: string;
  spec: JobSpec;
  clients: ClientRegistry;
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
}

type ParametersHandler = (clientId: string, message: unknown) => void;

/**
 * The job's first global model: the weights in the job spec when given, otherwise the initial
 * weights of one connected client (as Flower does), asked with `get_parameters_ins`.
 */
export async function initialModel(
  deps: InitialModelDeps,
  listen: (handler: ParametersHandler | undefined) => void,
  signal: AbortSignal,
): Promise<GlobalModel> {
  const { spec } = deps;
  if (spec.model.params) {
    const params = decodeParams(base64ToBytes(spec.model.params), { maxBytes: deps.maxPayloadBytes });
    return fromParams(params, spec.model.topology);
  }
  const deadline = deps.clock.now() + spec.clientWaitMs;
  const tried = new Set<string>();
  while (deps.clock.now() < deadline && !signal.aborted) {
    const remaining = deadline - deps.clock.now();
    if (!(await deps.clients.waitForClients(1, remaining, deps.clock, signal))) break;
    const candidate = deps.clients
      .ready()
      .map((c) => c.clientId)
      .sort()
      .find((id) => !tried.has(id));
    if (!candidate) {
      // Everyone connected has been asked: wait for someone new (or the deadline).
      if (!(await deps.clients.waitForNewClient(tried, deadline - deps.clock.now(), deps.clock, signal)))
        break;
      continue;
    }
    tried.add(candidate);
    const timeoutMs = Math.max(1, Math.min(spec.model.requestTimeoutMs, deadline - deps.clock.now()));
    const params = await askClient(deps, candidate, timeoutMs, listen, signal);
    if (params) return fromParams(params.params, spec.model.topology ?? params.topology);
  }
  if (signal.aborted) throw cancelledError();
  throw new FedlearnError(
    'QUORUM_NOT_REACHED',
    `no client supplied initial model parameters within ${spec.clientWaitMs} ms; connect a client or give model.params`,
  );
}

export function cancelledError(): FedlearnError {
  return new FedlearnError('ROUND_ABORTED', 'the job was cancelled');
}

/**
 * Asks one client for its initial weights. Its first answer decides: a malformed or undecodable
 * one, a `client_error`, leaving, or silence until `timeoutMs` all mean "ask the next client".
 */
function askClient(
  deps: InitialModelDeps,
  clientId: string,
  timeoutMs: number,
  listen: (handler: ParametersHandler | undefined) => void,
  signal: AbortSignal,
): Promise<{ params: ModelParams; topology: Record<string, unknown> } | undefined> {
  const requestId = `${deps.jobId}:init:${clientId}`;
  return new Promise((resolve) => {
    const finish = (value: { params: ModelParams; topology: Record<string, unknown> } | undefined) => {
      deps.clock.clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      listen(undefined);
      resolve(value);
    };
    const onAbort = () => finish(undefined);
    const timer = deps.clock.setTimeout(() => {
      deps.logger.warn({ clientId, timeoutMs }, 'no initial model from this client in time; asking the next');
      finish(undefined);
    }, timeoutMs);
    const unsubscribe = deps.clients.subscribe(() => {
      if (!deps.clients.get(clientId)) finish(undefined);
    });
    signal.addEventListener('abort', onAbort);
    listen((from, raw) => {
      if (from !== clientId) return;
      const client = deps.clients.get(from);
      const parsed = getParametersResSchema.safeParse(raw);
      if (!parsed.success || parsed.data.requestId !== requestId) {
        deps.logger.warn(
          { clientId },
          'unusable answer to the initial model request; asking the next client',
        );
        return finish(undefined);
      }
      try {
        const params = decodeParams(parsed.data.params, { maxBytes: deps.maxPayloadBytes });
        finish({ params, topology: parsed.data.modelTopology });
      } catch (error) {
        if (error instanceof FedlearnError) client?.connection.refuse(error, 'get_parameters_res');
        finish(undefined);
      }
    });
    const client = deps.clients.get(clientId);
    if (!client || signal.aborted) return finish(undefined);
    client.connection.send({ type: 'get_parameters_ins', requestId });
  });
}

function fromParams(params: ModelParams, topology: Record<string, unknown> | undefined): GlobalModel {
  return { specs: specsOf(params), topology, flat: flattenParams(params) };
}

export function base64ToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new FedlearnError('INVALID_CONFIG', 'model.params is not base64');
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}
