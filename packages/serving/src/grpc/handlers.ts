import { createHash } from 'node:crypto';
import { FedlearnError, toFedlearnError } from '@fedlearn/core';
import type {
  Metadata,
  ServerDuplexStream,
  ServerUnaryCall,
  sendUnaryData,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { InferenceService, InferOptions, ServedModelInfo } from '../inference/contract.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import type { ModelInferRequest, ModelMetadataResponse, ModelStreamInferResponse } from './messages.js';
import { toGrpcError } from './status.js';
import { decodeInferRequest, encodeInferResponse, type TensorLimits } from './tensor-codec.js';

export interface HandlerOptions {
  serverName: string;
  serverVersion: string;
  extensions: string[];
  limits: TensorLimits;
  maxStreamInFlight: number;
  /** Resolves when the caller's token is accepted; absent when auth is off. */
  authenticate?: (token: string | undefined) => boolean | Promise<boolean>;
  onError?: (error: unknown, method: string) => void;
  /** Requests and latency of ModelInfer and each ModelStreamInfer message (protocol `grpc`). */
  metrics?: Pick<ServingMetrics, 'observeRequest'>;
  /** Per-caller limit on every inference rpc and every ModelStreamInfer message (RESOURCE_EXHAUSTED). */
  rateLimiter?: RateLimiter;
}

/** `authorization: Bearer <token>` as KServe/Triton clients send it, else `x-api-key`. */
export function tokenFrom(metadata: Metadata): string | undefined {
  const auth = metadata.get('authorization')[0];
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  const key = metadata.get('x-api-key')[0];
  return typeof key === 'string' ? key : undefined;
}

async function checkToken(options: HandlerOptions, metadata: Metadata): Promise<void> {
  if (!options.authenticate) return;
  if (!(await options.authenticate(tokenFrom(metadata)))) {
    throw new FedlearnError('UNAUTHORIZED', 'missing or invalid token');
  }
}

/**
 * Whom a rate limit counts: the caller's token (as a digest, never the secret) when it sent one, which
 * auth has accepted by now, else its address without the port.
 */
export function callerKey(metadata: Metadata, peer: string): string {
  const token = tokenFrom(metadata);
  if (token) return `token:${createHash('sha256').update(token).digest('hex').slice(0, 24)}`;
  const port = peer.lastIndexOf(':');
  return `peer:${port > 0 ? peer.slice(0, port) : peer}`;
}

function admit(options: HandlerOptions, call: { metadata: Metadata; getPeer(): string }): void {
  if (options.rateLimiter?.enabled) options.rateLimiter.take(callerKey(call.metadata, call.getPeer()));
}

function deadlineOf(call: { getDeadline(): Date | number }): number | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

function metadataOf(info: ServedModelInfo): ModelMetadataResponse {
  const spec = (t: ServedModelInfo['inputs'][number]) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
  });
  return {
    name: info.name,
    versions: [info.version],
    platform: info.platform,
    inputs: info.inputs.map(spec),
    outputs: info.outputs.map(spec),
  };
}

async function runInfer(
  service: InferenceService,
  options: HandlerOptions,
  message: ModelInferRequest,
  inferOptions: InferOptions,
) {
  const started = performance.now();
  const observe = (outcome: string) =>
    options.metrics?.observeRequest(
      'grpc',
      message.model_name ?? '',
      outcome,
      (performance.now() - started) / 1000,
    );
  try {
    const { request, raw, requestedOutputs } = decodeInferRequest(message, options.limits);
    const result = await service.infer(request, inferOptions);
    const response = encodeInferResponse(result, raw, requestedOutputs);
    observe('ok');
    return response;
  } catch (error) {
    observe(toFedlearnError(error).code);
    throw error;
  }
}

/** The OIP rpcs plus Triton's ModelStreamInfer, each authenticated and mapped to gRPC status codes. */
export function inferenceHandlers(
  service: InferenceService,
  options: HandlerOptions,
): UntypedServiceImplementation {
  function unary<Req, Res>(
    method: string,
    handle: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  ) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      // Without auth there is nothing to wait for: the handler starts in this turn.
      const run = () => {
        admit(options, call);
        return handle(call.request, call);
      };
      const started = options.authenticate
        ? checkToken(options, call.metadata).then(run)
        : new Promise<Res>((resolve) => resolve(run()));
      started.then(
        (response) => callback(null, response),
        (error: unknown) => {
          options.onError?.(error, method);
          callback(toGrpcError(error));
        },
      );
    };
  }

  return {
    ServerLive: unary('ServerLive', () => ({ live: service.isLive() })),
    ServerReady: unary('ServerReady', () => ({ ready: service.isReady() })),
    ModelReady: unary('ModelReady', (req: { name: string; version: string }) => {
      if (!req.name)
        throw new FedlearnError('INVALID_ARGUMENT', 'name is required', { details: { field: 'name' } });
      return { ready: service.isReady(req.name, req.version || undefined) };
    }),
    ServerMetadata: unary('ServerMetadata', () => ({
      name: options.serverName,
      version: options.serverVersion,
      extensions: options.extensions,
    })),
    ModelMetadata: unary('ModelMetadata', (req: { name: string; version: string }) => {
      if (!req.name)
        throw new FedlearnError('INVALID_ARGUMENT', 'name is required', { details: { field: 'name' } });
      return metadataOf(service.modelInfo(req.name, req.version || undefined));
    }),
    ModelInfer: unary('ModelInfer', (req: ModelInferRequest, call) => {
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort());
      const deadline = deadlineOf(call);
      return runInfer(service, options, req, {
        signal: controller.signal,
        ...(deadline === undefined ? {} : { deadline }),
      });
    }),
    ModelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>) =>
      streamInfer(service, options, call),
  };
}

/**
 * One response per request, written as each completes (the `id` pairs them, as with Triton). A failed
 * request answers with `error_message` and the stream stays open; a bad token ends it UNAUTHENTICATED.
 */
function streamInfer(
  service: InferenceService,
  options: HandlerOptions,
  call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>,
): void {
  const controller = new AbortController();
  let inFlight = 0;
  let ended = false;
  const finishIfDone = () => {
    if (ended && inFlight === 0 && !controller.signal.aborted) call.end();
  };
  call.on('cancelled', () => controller.abort());
  const authorized = checkToken(options, call.metadata);
  authorized.catch((error: unknown) => {
    controller.abort();
    call.emit('error', toGrpcError(error));
  });
  call.on('data', (message: ModelInferRequest) => {
    if (inFlight >= options.maxStreamInFlight) {
      call.write({
        error_message: `RESOURCE_EXHAUSTED: more than ${options.maxStreamInFlight} requests in flight on this stream`,
        infer_response: { id: message.id ?? '' },
      });
      return;
    }
    inFlight += 1;
    const deadline = deadlineOf(call);
    authorized
      .then(() => {
        admit(options, call);
        return runInfer(service, options, message, {
          signal: controller.signal,
          ...(deadline === undefined ? {} : { deadline }),
        });
      })
      .then(
        (response) => {
          if (!controller.signal.aborted) call.write({ error_message: '', infer_response: response });
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          options.onError?.(error, 'ModelStreamInfer');
          call.write({ error_message: toGrpcError(error).details, infer_response: { id: message.id ?? '' } });
        },
      )
      .finally(() => {
        inFlight -= 1;
        finishIfDone();
      });
  });
  call.on('end', () => {
    ended = true;
    finishIfDone();
  });
}
