import { encodeParams, FedlearnError } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import type { JobSpecInput } from '../job-spec.js';
import type { ControlApiDeps } from './deps.js';
import { jobView } from './job-view.js';

const jobParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 200 } },
  required: ['id'],
} as const;

/** Jobs: create (idempotent with `Idempotency-Key`), list, read, cancel, pause, resume, rounds, model. */
export async function jobRoutes(app: FastifyInstance, deps: ControlApiDeps): Promise<void> {
  const view = (job: Parameters<typeof jobView>[0]) => jobView(job, deps.queue());
  const find = (id: string) => {
    const job = deps.jobs.get(id);
    if (!job) throw new FedlearnError('JOB_NOT_FOUND', 'no job has this id');
    return job;
  };

  app.get('/v1/jobs', { schema: { tags: ['jobs'], summary: 'All jobs, oldest first' } }, async () => ({
    jobs: [...deps.jobs.values()].map(view),
  }));

  app.post<{ Querystring: { priority?: number }; Headers: { 'idempotency-key'?: string } }>(
    '/v1/jobs',
    {
      bodyLimit: 512 * 1024 * 1024,
      schema: {
        tags: ['jobs'],
        summary: 'Queue a job (201); the same Idempotency-Key returns the same job (200)',
        body: { type: 'object', description: 'A job spec (docs/control-api.md)' },
        querystring: {
          type: 'object',
          properties: { priority: { type: 'integer', minimum: -1000, maximum: 1000 } },
          additionalProperties: false,
        },
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' } },
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { job, created } = await deps.submit(request.body as JobSpecInput, {
        ...(key === undefined ? {} : { idempotencyKey: key }),
        ...(request.query.priority === undefined ? {} : { priority: request.query.priority }),
      });
      return reply.code(created ? 201 : 200).send(view(job));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'One job', params: jobParams } },
    async (request) => view(find(request.params.id)),
  );

  const actions = {
    cancel: (id: string) => deps.cancelJob(id),
    pause: (id: string) => deps.pauseJob(id),
    resume: (id: string) => deps.resumeJob(id),
  } as const;
  for (const [action, run] of Object.entries(actions)) {
    app.post<{ Params: { id: string } }>(
      `/v1/jobs/:id/${action}`,
      {
        schema: {
          tags: ['jobs'],
          summary: `${action} a job (asynchronous: poll the job)`,
          params: jobParams,
        },
      },
      async (request) => view(await run(request.params.id)),
    );
  }

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id/rounds',
    { schema: { tags: ['jobs'], summary: "A job's completed rounds with their metrics", params: jobParams } },
    async (request) => ({ rounds: find(request.params.id).rounds }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id/model',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's current global model (fedlearn params codec, base64)",
        params: jobParams,
      },
    },
    async (request) => {
      const job = find(request.params.id);
      const model = await deps.currentModel(job.id);
      if (!model) throw new FedlearnError('MODEL_NOT_READY', 'this job has no global model yet');
      const registered = job.rounds.find((r) => r.round === model.round)?.model;
      return {
        jobId: job.id,
        round: model.round,
        specs: model.params.map((t) => ({ name: t.name, shape: t.shape })),
        params: Buffer.from(encodeParams(model.params)).toString('base64'),
        ...(registered
          ? { registry: { name: registered.name, version: registered.version, uri: registered.uri } }
          : {}),
      };
    },
  );
}
