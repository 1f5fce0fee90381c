import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { FedlearnError, toFedlearnError } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import { clientRoutes } from './api/client-routes.js';
import type { ControlApiDeps, ControlRoutes } from './api/deps.js';
import { eventRoutes } from './api/event-routes.js';
import { jobRoutes } from './api/job-routes.js';
import { fromFastifyError, sendError } from './http-errors.js';
import { unauthorized } from './identity/admin-tokens.js';
import { enrollmentRoutes } from './identity/routes.js';

export type { ControlApiDeps, ControlRoutes } from './api/deps.js';

/** The route modules under `/v1`; a new feature adds its module here (or passes it in `extra`). */
const enrollments: ControlRoutes = (app, deps) => enrollmentRoutes(app, { enrollments: deps.enrollments });
const V1_ROUTES: readonly ControlRoutes[] = [jobRoutes, clientRoutes, eventRoutes, enrollments];

/**
 * The control API: `GET /healthz`, `GET /metrics` and the OpenAPI docs at `/docs` are open;
 * everything under `/v1` needs `Authorization: Bearer <token>`: the admin token for anything, the
 * read token for GET/HEAD. Routes come in modules
 * (`ControlRoutes`), each reaching the coordinator only through `ControlApiDeps`.
 */
export async function controlApi(
  app: FastifyInstance,
  { coordinator, extra = [] }: { coordinator: ControlApiDeps; extra?: readonly ControlRoutes[] },
): Promise<void> {
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, _request, reply) => {
    const typed = error.validation
      ? new FedlearnError('INVALID_ARGUMENT', error.message)
      : fromFastifyError(error);
    if (typed) {
      coordinator.metrics.error(typed.code);
      return sendError(reply, typed);
    }
    coordinator.logger.error({ err: error }, 'control API failure');
    const wrapped = toFedlearnError(error);
    coordinator.metrics.error(wrapped.code);
    return sendError(reply, wrapped);
  });

  // A hook of this context, added before the token check, so guessing tokens is limited too
  // (the plugin's per-route hooks would run after it).
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new FedlearnError(
        'RATE_LIMITED',
        `rate limit: ${context.max} requests per ${context.after}; retry later`,
      ),
  });
  app.addHook(
    'onRequest',
    app.rateLimit({ max: coordinator.config.rateLimits.apiPerMinute, timeWindow: 60_000 }),
  );

  // Bodies are JSON only: anything else is answered 415, not parsed as a string and misread.
  app.removeContentTypeParser('text/plain');

  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}/?$`);
    for (const method of [route.method].flat()) routes.push({ method, pattern });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if ((path === '/v1' || path.startsWith('/v1/')) && !coordinator.apiAccess.scopeOf(request))
      return sendError(reply, unauthorized());
    const allowed = routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    if (allowed.length > 0) {
      return sendError(
        reply.header('allow', [...new Set(allowed)].join(', ')),
        new FedlearnError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allowed[0]}`),
      );
    }
    return sendError(reply, new FedlearnError('ROUTE_NOT_FOUND', 'no such route'));
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'fedlearn coordinator control API',
        version: '1',
        description: 'Jobs, their rounds and live progress, connected clients (docs/control-api.md).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('content-type', coordinator.metrics.registry.contentType)
      .send(await coordinator.metrics.registry.metrics()),
  );

  await app.register(async (v1) => {
    v1.addHook('onRequest', async (request) => coordinator.apiAccess.authorize(request));
    for (const routes of [...V1_ROUTES, ...extra]) await routes(v1, coordinator);
  });
}
