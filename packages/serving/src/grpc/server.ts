import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { RateLimiter, type RateLimitOptions } from '../auth/rate-limiter.js';
import type { InferenceService } from '../inference/contract.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import { inferenceHandlers } from './handlers.js';
import { INFERENCE_SERVICE, loadInferenceProto, PROTO_LOADER_OPTIONS } from './proto.js';
import { DEFAULT_TENSOR_LIMITS, type TensorLimits } from './tensor-codec.js';

export interface GrpcTlsOptions {
  /** PEM certificate chain and private key of the server. */
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM CA that signs client certificates, for mutual TLS. */
  ca?: string | Buffer;
  requireClientCert?: boolean;
}

export interface GrpcServerOptions {
  /** Default `0.0.0.0`. */
  host?: string;
  /** Default 50051 (DESIGN.md §5); 0 picks a free port. */
  port?: number;
  /** Without it the server listens in plaintext. */
  tls?: GrpcTlsOptions;
  /** When set, every inference rpc needs a token it accepts (health and reflection stay open for probes). */
  authenticate?: (token: string | undefined) => boolean | Promise<boolean>;
  /** Largest request message; larger ones end RESOURCE_EXHAUSTED before they are decoded. Default 4 MiB. */
  maxMessageBytes?: number;
  limits?: Partial<TensorLimits>;
  /** Requests one ModelStreamInfer stream may have in flight. Default 64. */
  maxStreamInFlight?: number;
  serverName?: string;
  serverVersion?: string;
  /** How often the health service re-reads readiness. Default 1000 ms. */
  healthRefreshMs?: number;
  /** Called for every failed rpc (logging). */
  onError?: (error: unknown, method: string) => void;
  /** Records inference requests and latency under protocol `grpc`. */
  metrics?: Pick<ServingMetrics, 'observeRequest'>;
  /**
   * Requests per caller (its token, else its address) per window over every inference rpc and stream
   * message; over it, RESOURCE_EXHAUSTED. Off when absent or `max` is 0.
   */
  rateLimit?: RateLimitOptions;
}

export interface GrpcServerHandle {
  readonly port: number;
  readonly server: Server;
  /** Re-reads readiness into the health service now. */
  refreshHealth(): void;
  /** Stops accepting calls, lets running calls finish, and shuts down. */
  close(): Promise<void>;
}

/**
 * Serves `inference.GRPCInferenceService` (Open Inference Protocol, plus Triton's ModelStreamInfer), the
 * standard `grpc.health.v1.Health` service and server reflection, over an `InferenceService`.
 *
 * @example
 * const grpc = await startGrpcServer(service, { port: 50051, authenticate: (t) => t === apiKey });
 * await grpc.close();
 */
export async function startGrpcServer(
  service: InferenceService,
  options: GrpcServerOptions = {},
): Promise<GrpcServerHandle> {
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  });
  const proto = loadInferenceProto();
  server.addService(
    proto.service,
    inferenceHandlers(service, {
      serverName: options.serverName ?? 'fedlearn',
      serverVersion: options.serverVersion ?? '0.1.0',
      extensions: ['model_stream_infer'],
      limits: { ...DEFAULT_TENSOR_LIMITS, ...options.limits },
      maxStreamInFlight: options.maxStreamInFlight ?? 64,
      ...(options.authenticate ? { authenticate: options.authenticate } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.rateLimit ? { rateLimiter: new RateLimiter(options.rateLimit) } : {}),
    }),
  );

  const health = new HealthImplementation({ '': 'SERVING', [INFERENCE_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  const refreshHealth = () => {
    health.setStatus('', service.isLive() ? 'SERVING' : 'NOT_SERVING');
    health.setStatus(INFERENCE_SERVICE, service.isReady() ? 'SERVING' : 'NOT_SERVING');
  };
  refreshHealth();
  const unsubscribe = service.onSwap(refreshHealth);
  const timer = setInterval(refreshHealth, options.healthRefreshMs ?? 1000);
  timer.unref();

  const healthDefinition = loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
  new ReflectionService({ ...proto.packageDefinition, ...healthDefinition }).addToServer(server);

  const credentials = options.tls
    ? ServerCredentials.createSsl(
        options.tls.ca ? Buffer.from(options.tls.ca) : null,
        [{ cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) }],
        options.tls.requireClientCert ?? false,
      )
    : ServerCredentials.createInsecure();
  const address = `${options.host ?? '0.0.0.0'}:${options.port ?? 50051}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });

  return {
    port,
    server,
    refreshHealth,
    close: async () => {
      clearInterval(timer);
      unsubscribe();
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(INFERENCE_SERVICE, 'NOT_SERVING');
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
