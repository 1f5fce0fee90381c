import { parseArgs } from 'node:util';
import { isFedlearnError } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import {
  resolveServingConfig,
  type ServingConfigInput,
  type ServingHandle,
  startServing,
} from '@fedlearn/serving';
import pino from 'pino';
import { intOption } from '../options.js';
import type { CommandIo } from './io.js';

export const SERVE_HELP = `fedlearn serve — answer predictions from registered models over REST, GraphQL and gRPC

Usage: fedlearn serve [options]

With no options it serves mnist-mlp@champion (what \`fedlearn demo\` trains) from ./.fedlearn:
REST + GraphQL on http://127.0.0.1:8800 (/docs, /graphql, /metrics) and gRPC on 50051, with
authentication OFF and listening on 127.0.0.1 only (a local demo; give a key for anything else).

  --model M            name, name@alias or name/version; repeat to serve several (default
                       mnist-mlp@champion). Aliases are polled and swapped in without downtime.
  --host H             listen address (default 127.0.0.1 without auth, 0.0.0.0 with it)
  --port P             HTTP port for REST and GraphQL (default 8800)
  --grpc-port P        gRPC port (default 50051); --no-grpc to turn gRPC off
  --api-key K          accept this API key (repeatable; also FEDLEARN_API_KEYS, comma-separated)
  --jwt-secret S       accept HS256 JWTs signed with S (also FEDLEARN_JWT_SECRET);
  --jwks-url U         or JWTs verified with this JWKS; --jwt-issuer, --jwt-audience to check claims
  --rate-limit N       requests per client per minute (default 120000; 0 = off)
  --max-batch N        rows per model run (default 64); --no-batching to run requests one by one
  --max-delay MS       how long a request waits for company (default 0: the current event-loop turn)
  --poll MS            alias polling interval (default 5000; 0 = never)
  --streams            also answer requests from Redis Streams (REDIS_URL, default redis://127.0.0.1:6379)
  --backend B          auto | tensorflow | wasm | cpu (default auto)
  --home DIR           fedlearn home with the local registry (default $FEDLEARN_HOME or ./.fedlearn)
  --wait-for-model     when a model or alias does not exist yet (or the registry does not answer
                       yet), wait for it, printing progress, instead of exiting: what a deployment
                       runs beside a coordinator that is still training its first version
  --wait-interval MS   how often to look again while waiting (default 5000)

Models come from MLflow when MLFLOW_TRACKING_URI is set (artifacts from S3 with AWS_* variables).
`;

export interface ServeControl {
  /** Stops the server (tests); without it, SIGINT and SIGTERM stop it. */
  signal?: AbortSignal;
  onReady?: (handle: ServingHandle) => void;
  /** `--wait-for-model`'s pause between attempts (tests inject one); resolves early on abort. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Codes `--wait-for-model` waits through: the model is not there yet, or its registry is not up yet. */
const NOT_YET = ['REGISTRY_NOT_FOUND', 'REGISTRY_UNAVAILABLE'] as const;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function stopSignal(control: ServeControl): AbortSignal {
  if (control.signal) return control.signal;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  return controller.signal;
}

function listOf(values: string[] | undefined, env: string | undefined): string[] {
  return [...(values ?? []), ...(env ?? '').split(',')].map((v) => v.trim()).filter(Boolean);
}

export function serveConfigFromArgs(
  args: string[],
  env: Record<string, string | undefined>,
): ServingConfigInput | undefined {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string', multiple: true },
      host: { type: 'string' },
      port: { type: 'string' },
      'grpc-port': { type: 'string' },
      'no-grpc': { type: 'boolean', default: false },
      'api-key': { type: 'string', multiple: true },
      'jwt-secret': { type: 'string' },
      'jwks-url': { type: 'string' },
      'jwt-issuer': { type: 'string' },
      'jwt-audience': { type: 'string' },
      'rate-limit': { type: 'string' },
      'max-batch': { type: 'string' },
      'max-delay': { type: 'string' },
      'no-batching': { type: 'boolean', default: false },
      poll: { type: 'string' },
      streams: { type: 'boolean', default: false },
      backend: { type: 'string' },
      home: { type: 'string' },
      'wait-for-model': { type: 'boolean', default: false },
      'wait-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  // Validated here with the rest; read again by runServeCommand (not a serving setting).
  intOption(values['wait-interval'], 'wait-interval', 5000, 10, 3_600_000);
  const apiKeys = listOf(values['api-key'], env.FEDLEARN_API_KEYS);
  const jwtSecret = values['jwt-secret'] ?? env.FEDLEARN_JWT_SECRET;
  const jwksUrl = values['jwks-url'];
  const jwt = jwtSecret || jwksUrl;
  return {
    ...(values.model ? { models: values.model } : {}),
    http: {
      ...(values.host ? { host: values.host } : {}),
      port: intOption(values.port, 'port', 8800, 0, 65_535),
    },
    grpc: {
      enabled: !values['no-grpc'],
      port: intOption(values['grpc-port'], 'grpc-port', 50051, 0, 65_535),
    },
    auth: {
      mode: jwt ? 'jwt' : apiKeys.length > 0 ? 'api-key' : 'off',
      apiKeys,
      jwt: {
        ...(jwtSecret ? { secret: jwtSecret } : {}),
        ...(jwksUrl ? { jwksUrl } : {}),
        ...(values['jwt-issuer'] ? { issuer: values['jwt-issuer'] } : {}),
        ...(values['jwt-audience'] ? { audience: values['jwt-audience'] } : {}),
      },
    },
    rateLimit: {
      max: intOption(values['rate-limit'], 'rate-limit', 120_000, 0, 100_000_000),
      windowMs: 60_000,
    },
    batching: {
      enabled: !values['no-batching'],
      maxBatchSize: intOption(values['max-batch'], 'max-batch', 64, 1, 4096),
      maxQueueDelayMs: intOption(values['max-delay'], 'max-delay', 0, 0, 1000),
    },
    pollIntervalMs: intOption(values.poll, 'poll', 5000, 0, 86_400_000),
    streams: { enabled: values.streams ?? false, ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}) },
    ...(values.backend ? { backend: values.backend as 'auto' } : {}),
  };
}

/** `fedlearn serve`: runs until SIGINT/SIGTERM (or `control.signal`), then closes every protocol. */
export async function runServeCommand(
  args: string[],
  io: CommandIo,
  control: ServeControl = {},
): Promise<number> {
  const input = serveConfigFromArgs(args, io.env);
  if (!input) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const config = resolveServingConfig(input);
  const homeFlag = parseArgs({ args, options: { home: { type: 'string' } }, strict: false }).values.home;
  const lifecycle = createModelLifecycle(
    resolveLifecycleConfig(io.env, {
      cwd: io.cwd,
      ...(typeof homeFlag === 'string' ? { home: homeFlag } : {}),
    }),
  );
  const logger = pino({ level: io.env.LOG_LEVEL ?? 'info' });
  const flags = parseArgs({
    args,
    options: { 'wait-for-model': { type: 'boolean' }, 'wait-interval': { type: 'string' } },
    strict: false,
  }).values;
  const waitForModel = flags['wait-for-model'] === true;
  const interval = intOption(
    typeof flags['wait-interval'] === 'string' ? flags['wait-interval'] : undefined,
    'wait-interval',
    5000,
    10,
    3_600_000,
  );
  const stop = stopSignal(control);
  const sleep = control.sleep ?? abortableSleep;
  const started = Date.now();
  let serving: ServingHandle | undefined;
  for (let attempt = 1; !serving; attempt++) {
    try {
      serving = await startServing(config, { source: lifecycle, logger });
    } catch (error) {
      const notYet = NOT_YET.find((code) => isFedlearnError(error, code));
      if (waitForModel && notYet && !stop.aborted) {
        const waited = Math.round((Date.now() - started) / 1000);
        io.stderr(
          `fedlearn serve: waiting for ${config.models.join(', ')} (${notYet}: ${(error as Error).message}); attempt ${attempt}, ${waited}s so far, next look in ${interval} ms\n`,
        );
        await sleep(interval, stop);
        if (stop.aborted) {
          await lifecycle.close();
          return 0;
        }
        continue;
      }
      await lifecycle.close();
      if (isFedlearnError(error, 'REGISTRY_NOT_FOUND')) {
        io.stderr(
          `fedlearn serve: ${error.message}\nNothing to serve yet: train one with \`npm start\` (fedlearn demo), or pick a model with --model (see \`fedlearn models list\`), or pass --wait-for-model to wait for it.\n`,
        );
        return 1;
      }
      throw error;
    }
  }
  const models = serving.core.service.listModels();
  io.stdout(
    `fedlearn serve: ${models.map((m) => `${m.name}${m.alias ? `@${m.alias}` : ''} (v${m.version})`).join(', ')} on tfjs ${serving.backend}\n` +
      `  REST     ${serving.url}/v2/models/${models[0]?.name}/infer  ·  ${serving.url}/v1/models/${models[0]?.name}/predict\n` +
      `  docs     ${serving.url}/docs   GraphQL ${serving.url}/graphql (GraphiQL ${serving.url}/graphiql)   metrics ${serving.url}/metrics\n` +
      (serving.grpc ? `  gRPC     127.0.0.1:${serving.grpc.port} (inference.GRPCInferenceService)\n` : '') +
      (config.auth.mode === 'off'
        ? '  WARNING: authentication is OFF (local demo only); pass --api-key or --jwt-secret to turn it on\n'
        : `  auth     ${config.auth.mode}\n`),
  );
  control.onReady?.(serving);
  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
  });
  await serving.close();
  await lifecycle.close();
  return 0;
}
