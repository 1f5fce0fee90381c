import {
  decodeParams,
  FedlearnError,
  flattenParams,
  getParametersResSchema,
  type ModelParams,
  specsOf,
  type TensorSpec,
} from '@fedlearn/core';
import type { JobRunnerDeps } from './job-runner.js';
import { waitForClients } from './job-runner.js';

interface InitialModel {
  specs: TensorSpec[];
  topology: Record<string, unknown> | undefined;
  flat: Float32Array;
}

type ParametersHandler = (clientId: string, message: unknown) => void;

/**
 * The job's first global model: the weights in the job spec when given, otherwise the initial
 * weights of one connected client (as Flower does), asked with `get_parameters_ins`.
 */
export async function initialModel(
  deps: JobRunnerDeps,
  listen: (handler: ParametersHandler | undefined) => void,
  signal: AbortSignal,
): Promise<InitialModel> {
  const { spec } = deps;
  if (spec.model.params) {
    const params = decodeParams(base64ToBytes(spec.model.params), { maxBytes: deps.maxPayloadBytes });
    return fromParams(params, spec.model.topology);
  }
  const deadline = deps.clock.now() + spec.clientWaitMs;
  const tried = new Set<string>();
  while (deps.clock.now() < deadline && !signal.aborted) {
    const remaining = deadline - deps.clock.now();
    if (!(await waitForClients(deps.clients, 1, remaining, deps.clock, signal))) break;
    const candidate = deps.clients
      .ready()
      .map((c) => c.clientId)
      .sort()
      .find((id) => !tried.has(id));
    if (!candidate) {
      // Everyone connected has been asked: wait for someone new (or the deadline).
      if (!(await waitForNewClient(deps, tried, deadline - deps.clock.now(), signal))) break;
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

/** Resolves true once a client not in `asked` is connected, false on timeout or cancel. */
function waitForNewClient(
  deps: JobRunnerDeps,
  asked: Set<string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (value: boolean) => {
      deps.clock.clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => finish(false);
    const timer = deps.clock.setTimeout(() => finish(false), Math.max(1, timeoutMs));
    const unsubscribe = deps.clients.subscribe(() => {
      if (deps.clients.ready().some((c) => !asked.has(c.clientId))) finish(true);
    });
    signal.addEventListener('abort', onAbort);
  });
}

/**
 * Asks one client for its initial weights. Its first answer decides: a malformed or undecodable
 * one, a `client_error`, leaving, or silence until `timeoutMs` all mean "ask the next client".
 */
function askClient(
  deps: JobRunnerDeps,
  clientId: string,
  timeoutMs: number,
  listen: (handler: ParametersHandler | undefined) => void,
  signal: AbortSignal,
): Promise<{ params: ModelParams; topology: Record<string, unknown> } | undefined> {
  const requestId = `${deps.job.id}:init:${clientId}`;
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

function fromParams(params: ModelParams, topology: Record<string, unknown> | undefined): InitialModel {
  return { specs: specsOf(params), topology, flat: flattenParams(params) };
}

export function base64ToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new FedlearnError('INVALID_CONFIG', 'model.params is not base64');
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}
