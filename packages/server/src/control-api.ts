import { FedlearnError, httpStatusOf, toFedlearnError } from '@fedlearn/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Coordinator } from './coordinator.js';
import type { JobSpecInput } from './job-spec.js';
import { tokenMatches } from './tokens.js';

function sendError(reply: FastifyReply, error: FedlearnError): FastifyReply {
  return reply.code(httpStatusOf(error.code)).send({ error: error.toJSON() });
}

/**
 * The control API: `GET /healthz` and `GET /metrics` are open; everything under `/v1` needs
 * `Authorization: Bearer <apiToken>`.
 */
export async function controlApi(
  app: FastifyInstance,
  { coordinator }: { coordinator: Coordinator },
): Promise<void> {
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof FedlearnError) return sendError(reply, error);
    if (error.statusCode === 413)
      return sendError(reply, new FedlearnError('PAYLOAD_TOO_LARGE', error.message));
    if (error.statusCode && error.statusCode < 500) {
      return sendError(reply, new FedlearnError('MALFORMED_MESSAGE', error.message));
    }
    coordinator.logger.error({ err: error }, 'control API failure');
    return sendError(reply, toFedlearnError(error));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new FedlearnError('JOB_NOT_FOUND', `no route ${request.method} ${request.url}`)).code(
      404,
    ),
  );

  const authenticate = async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ') || !tokenMatches(coordinator.config.apiToken, header.slice(7))) {
      throw new FedlearnError(
        'UNAUTHORIZED',
        'missing or wrong bearer token: send Authorization: Bearer <api token>',
      );
    }
  };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) =>
    reply
      .header('content-type', coordinator.metrics.registry.contentType)
      .send(await coordinator.metrics.registry.metrics()),
  );

  await app.register(async (v1) => {
    v1.addHook('onRequest', authenticate);
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
