import type { FastifyInstance } from 'fastify';
import type { ControlApiDeps } from './deps.js';

/** The clients connected now, and the coordinator's status at a glance. */
export async function clientRoutes(app: FastifyInstance, deps: ControlApiDeps): Promise<void> {
  const connected = () =>
    deps.clients.all().map((c) => ({
      clientId: c.info.clientId,
      numExamples: c.info.numExamples,
      backend: c.info.capabilities.backend,
      secureAggregation: c.info.capabilities.secagg,
      joinedAt: new Date(c.joinedAt).toISOString(),
      lastSeen: new Date(c.lastSeen).toISOString(),
    }));

  app.get('/v1/clients', { schema: { tags: ['clients'], summary: 'Connected clients' } }, async () => ({
    clients: connected(),
  }));

  app.get(
    '/v1/status',
    { schema: { tags: ['status'], summary: 'Clients, the running job and the queue' } },
    async () => {
      const running = [...deps.jobs.values()].find((j) => j.status === 'running');
      return {
        serverId: deps.config.serverId,
        clients: connected(),
        job: running
          ? {
              id: running.id,
              status: running.status,
              round: running.currentRound,
              rounds: running.spec.rounds,
            }
          : null,
        queue: deps.queue().map((j, i) => ({ id: j.id, position: i + 1, priority: j.priority })),
      };
    },
  );
}
