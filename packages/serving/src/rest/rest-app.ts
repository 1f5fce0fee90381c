import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { type Authenticator, type Principal, tokenFromHeader } from '../auth/authenticator.js';
import type { ServingConfig } from '../config.js';
import type { InferenceService } from '../inference/contract.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import { registerFriendlyRoutes } from './friendly-routes.js';
import { toHttpError } from './http-errors.js';
import { registerOipRoutes } from './oip-routes.js';
import { requestIdFromHeader } from './request-context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A prediction route: counted and timed in the `rest` protocol metrics. */
    predicts?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface RestAppOptions {
  service: InferenceService;
  config: ServingConfig;
  authenticator: Authenticator;
  metrics: ServingMetrics;
  logger: Logger;
  version?: string;
  /** Mounts more routes (GraphQL) inside the same auth, rate limit and error handling. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/** OIP routes answer `{"error": "..."}` exactly; the others add the code and the field. */
function sendError(req: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const http = toHttpError(error);
  if (http.status >= 500 && http.code === 'INTERNAL') req.log.error({ err: error }, 'request failed');
  const oip = req.url.startsWith('/v2');
  return reply
    .code(http.status)
    .send(
      oip
        ? { error: http.message }
        : { error: http.message, code: http.code, ...(http.field ? { field: http.field } : {}) },
    );
}

/** Paths a probe or a browser reads without credentials. */
const OPEN_PATHS = [/^\/v2\/health\/(live|ready)$/, /^\/docs(\/|$)/, /^\/graphiql/];

/**
 * The HTTP front end: OIP v2 and the friendly API, OpenAPI at `/docs`, `/metrics`, and whatever
 * `plugins` add, behind one authentication hook and one per-client rate limit.
 */
export async function createRestApp(options: RestAppOptions): Promise<FastifyInstance> {
  const { service, config, authenticator, metrics } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: (req) => requestIdFromHeader(req.headers['x-request-id']),
  });
  app.decorateRequest('principal', null as unknown as Principal);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'fedlearn serving',
        version: options.version ?? '0.1.0',
        description:
          'Predictions from the registered champion model: Open Inference Protocol v2, a friendly API and explanations.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
      ...(authenticator.enabled ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  if (authenticator.enabled) {
    app.addHook('onRequest', async (req, reply) => {
      reply.header('x-request-id', req.id);
      const path = req.url.split('?')[0]!;
      // A GraphQL subscription authenticates in its connection_init (browsers cannot set headers on a
      // WebSocket); only a GET upgrade of /graphql gets there, so no other route is reachable this way.
      const subscription = path === '/graphql' && req.method === 'GET' && req.headers.upgrade === 'websocket';
      if (OPEN_PATHS.some((p) => p.test(path)) || subscription) {
        req.principal = { id: req.ip, method: 'none' };
        return;
      }
      const token = tokenFromHeader(req.headers.authorization) ?? tokenFromHeader(req.headers['x-api-key']);
      try {
        req.principal = await authenticator.authenticate(token);
      } catch (error) {
        // Answered here rather than thrown: plugins such as mercurius have their own error handlers.
        return sendError(req, reply, error);
      }
    });
  } else {
    // Auth off (the local demo): callers are told apart by address; a callback hook, no promise per request.
    app.addHook('onRequest', (req, reply, done) => {
      reply.header('x-request-id', req.id);
      req.principal = { id: req.ip, method: 'none' };
      done();
    });
  }

  if (config.rateLimit.max > 0) {
    await app.register(rateLimit, {
      hook: 'preHandler',
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowMs,
      keyGenerator: (req) => req.principal?.id ?? req.ip,
      allowList: (req) => OPEN_PATHS.some((p) => p.test(req.url.split('?')[0]!)),
      errorResponseBuilder: (_req, context) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        message: `rate limit: ${context.max} requests per ${context.after}; retry later`,
      }),
    });
  }

  app.setErrorHandler((error, req, reply) => sendError(req, reply, error));

  app.addHook('onResponse', (req, reply, done) => {
    if (req.routeOptions.config.predicts) {
      const model = (req.params as { name?: string }).name ?? 'unknown';
      const outcome = reply.statusCode < 400 ? 'ok' : String(reply.statusCode);
      metrics.observeRequest('rest', model, outcome, reply.elapsedTime / 1000);
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  registerOipRoutes(app, service, options.version ?? '0.1.0');
  registerFriendlyRoutes(app, service);
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
