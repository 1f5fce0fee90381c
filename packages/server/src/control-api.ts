import rateLimit from '@fastify/rate-limit';
import { FedlearnError, toFedlearnError } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import type { Coordinator } from './coordinator.js';
import { fromFastifyError, sendError } from './http-errors.js';
import { unauthorized } from './identity/admin-tokens.js';
import { enrollmentRoutes } from './identity/routes.js';
import type { JobSpecInput } from './job-spec.js';

/**
 * The control API: `GET /healthz` and `GET /metrics` are open; everything under `/v1` needs
 * `Authorization: Bearer <token>`: the admin token for anything, the read token for GET/HEAD.
 */
export async function controlApi(
  app: FastifyInstance,
  { coordinator }: { coordinator: Coordinator },
): Promise<void> {
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const typed = fromFastifyError(error);
    if (typed) return sendError(reply, typed);
    coordinator.logger.error({ err: error }, 'control API failure');
    return sendError(reply, toFedlearnError(error));
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

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) =>
    reply
      .header('content-type', coordinator.metrics.registry.contentType)
      .send(await coordinator.metrics.registry.metrics()),
  );

  await app.register(async (v1) => {
    v1.addHook('onRequest', async (request) => coordinator.apiAccess.authorize(request));
    await v1.register(enrollmentRoutes, { enrollments: coordinator.enrollments });
    v1.get('/v1/status', async () => {
      const running = [...coordinator.jobs.values()].find((j) => j.status === 'running');
      return {
        serverId: coordinator.config.serverId,
        clients: coordinator.clients.all().map((c) => ({
          clientId: c.info.clientId,
          numExamples: c.info.numExamples,
          backend: c.info.capabilities.backend,
          joinedAt: new Date(c.joinedAt).toISOString(),
          lastSeen: new Date(c.lastSeen).toISOString(),
        })),
        job: running
          ? {
              id: running.id,
              status: running.status,
              round: running.currentRound,
              rounds: running.spec.rounds,
            }
          : null,
      };
    });
    v1.get('/v1/jobs', async () => ({ jobs: [...coordinator.jobs.values()].map(jobView) }));
    v1.post('/v1/jobs', { bodyLimit: 512 * 1024 * 1024 }, async (request, reply) => {
      const job = coordinator.submitJob(request.body as JobSpecInput);
      return reply.code(201).send(jobView(job));
    });
    v1.get<{ Params: { id: string } }>('/v1/jobs/:id', async (request) => {
      const job = coordinator.jobs.get(request.params.id);
      if (!job) throw new FedlearnError('JOB_NOT_FOUND', `no job ${request.params.id}`);
      return jobView(job);
    });
    v1.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', async (request) =>
      jobView(coordinator.cancelJob(request.params.id)),
    );
  });
}

function jobView(job: import('./events.js').JobState) {
  const { model, ...spec } = job.spec;
  return {
    ...job,
    spec: { ...spec, model: { topology: model.topology !== undefined, params: model.params !== undefined } },
  };
}
