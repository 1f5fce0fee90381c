import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth/authenticator.js';
import type { BatchScheduler } from './batching/scheduler.js';
import type { ServingConfig } from './config.js';
import { registerGraphql } from './graphql/graphql-plugin.js';
import { type GrpcServerHandle, startGrpcServer } from './grpc/server.js';
import { createServingMetrics } from './metrics/serving-metrics.js';
import type { IntervalTimer } from './models/alias-watcher.js';
import { startServingBackend } from './models/backend.js';
import type { ModelSource } from './models/model-catalog.js';
import { createRestApp } from './rest/rest-app.js';
import { type ServingCore, startServingCore } from './serving-core.js';
import { type StreamsWorkerHandle, startStreamsWorker } from './streams/worker.js';

export interface ServingDeps {
  /** Where models come from: `createModelLifecycle(resolveLifecycleConfig(env))`. */
  source: ModelSource;
  logger: Logger;
  scheduler?: BatchScheduler;
  timer?: IntervalTimer;
  version?: string;
}

/** A running serving process: every protocol over one core. */
export interface ServingHandle {
  core: ServingCore;
  http: FastifyInstance;
  /** `http://host:port` the REST and GraphQL front end listens on. */
  url: string;
  /** The tfjs backend in use (tensorflow, wasm or cpu). */
  backend: string;
  grpc?: GrpcServerHandle;
  streams?: StreamsWorkerHandle;
  close(): Promise<void>;
}

/**
 * Starts serving from one validated configuration: loads and watches the models, then REST +
 * GraphQL (one Fastify server), gRPC and, when enabled, the Redis Streams worker, all over the same
 * `InferenceService` and the same authenticator.
 *
 * @example
 * const serving = await startServing(resolveServingConfig({ models: ['mnist-mlp@champion'] }), { source: lifecycle, logger });
 */
export async function startServing(config: ServingConfig, deps: ServingDeps): Promise<ServingHandle> {
  const { logger } = deps;
  const backend = await startServingBackend(config.backend);
  const metrics = createServingMetrics();
  const core = await startServingCore({
    source: deps.source,
    models: config.models,
    logger,
    batching: config.batching,
    pollIntervalMs: config.pollIntervalMs,
    metrics,
    ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
    ...(deps.timer ? { timer: deps.timer } : {}),
  });
  const authenticator = createAuthenticator(config.auth);
  if (!authenticator.enabled) {
    logger.warn(
      'AUTH IS OFF: anyone who can reach this server can use it. Use --api-key or --jwt-secret outside a local demo.',
    );
  }
  const started: { http?: FastifyInstance; grpc?: GrpcServerHandle; streams?: StreamsWorkerHandle } = {};
  const close = async () => {
    await started.streams?.close();
    await started.grpc?.close();
    await started.http?.close();
    core.close();
  };
  try {
    const http = await createRestApp({
      service: core.service,
      config,
      authenticator,
      metrics,
      logger,
      ...(deps.version ? { version: deps.version } : {}),
      plugins: config.graphql.enabled
        ? [(app) => registerGraphql(app, core.service, config.graphql, authenticator, metrics)]
        : [],
    });
    started.http = http;
    // Without authentication, only this machine may connect unless a host is given explicitly.
    const host = config.http.host ?? (authenticator.enabled ? '0.0.0.0' : '127.0.0.1');
    await http.listen({ host, port: config.http.port });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;

    // gRPC (engineer 9B's server): same service, same credentials.
    if (config.grpc.enabled) {
      started.grpc = await startGrpcServer(core.service, {
        host,
        port: config.grpc.port,
        metrics,
        rateLimit: config.rateLimit,
        ...(authenticator.enabled ? { authenticate: (token) => authenticator.accepts(token) } : {}),
      });
    }
    // Redis Streams (engineer 9B's worker).
    if (config.streams.enabled) {
      started.streams = await startStreamsWorker(core.service, {
        redis: config.streams.redisUrl,
        requestStream: config.streams.requestStream,
        resultStream: config.streams.resultStream,
        metrics,
        rateLimit: config.rateLimit,
        ...(authenticator.enabled ? { authenticate: (token) => authenticator.authenticate(token) } : {}),
      });
    }
    logger.info(
      {
        backend,
        models: core.service.listModels().map((m) => `${m.name}@${m.alias ?? m.version} v${m.version}`),
        http: port,
        grpc: started.grpc?.port,
      },
      'serving',
    );
    return {
      core,
      http,
      backend,
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      ...(started.grpc ? { grpc: started.grpc } : {}),
      ...(started.streams ? { streams: started.streams } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
