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
): Promise<InitialModel> {
  const { spec } = deps;
  if (spec.model.params) {
    const params = decodeParams(base64ToBytes(spec.model.params), { maxBytes: deps.maxPayloadBytes });
    return fromParams(params, spec.model.topology);
  }
  const deadline = deps.clock.now() + spec.clientWaitMs;
  const tried = new Set<string>();
  while (deps.clock.now() < deadline) {
    const remaining = deadline - deps.clock.now();
    if (!(await waitForClients(deps.clients, 1, remaining, deps.clock))) break;
    const candidate = deps.clients
      .ready()
      .map((c) => c.clientId)
      .sort()
      .find((id) => !tried.has(id));
    if (!candidate) break;
    tried.add(candidate);
    const params = await askClient(deps, candidate, Math.max(1, deadline - deps.clock.now()), listen);
    if (params) return fromParams(params.params, spec.model.topology ?? params.topology);
  }
  throw new FedlearnError(
    'QUORUM_NOT_REACHED',
    `no client supplied initial model parameters within ${spec.clientWaitMs} ms; connect a client or give model.params`,
  );
}

function askClient(
  deps: JobRunnerDeps,
  clientId: string,
  timeoutMs: number,
  listen: (handler: ParametersHandler | undefined) => void,
): Promise<{ params: ModelParams; topology: Record<string, unknown> } | undefined> {
  const requestId = `${deps.job.id}:init:${clientId}`;
  return new Promise((resolve) => {
    const finish = (value: { params: ModelParams; topology: Record<string, unknown> } | undefined) => {
      deps.clock.clearTimeout(timer);
      unsubscribe();
      listen(undefined);
      resolve(value);
    };
    const timer = deps.clock.setTimeout(() => finish(undefined), timeoutMs);
    const unsubscribe = deps.clients.subscribe(() => {
      if (!deps.clients.get(clientId)) finish(undefined);
    });
    listen((from, raw) => {
      const client = deps.clients.get(from);
      const parsed = getParametersResSchema.safeParse(raw);
      if (from !== clientId || !parsed.success || parsed.data.requestId !== requestId) return;
      try {
        const params = decodeParams(parsed.data.params, { maxBytes: deps.maxPayloadBytes });
        finish({ params, topology: parsed.data.modelTopology });
      } catch (error) {
        if (error instanceof FedlearnError) client?.connection.refuse(error, 'get_parameters_res');
        finish(undefined);
      }
    });
    const client = deps.clients.get(clientId);
    if (!client) return finish(undefined);
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
