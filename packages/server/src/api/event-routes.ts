import type { ServerResponse } from 'node:http';
import { FedlearnError } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import type { JobEvent } from '../store/index.js';
import type { ControlApiDeps } from './deps.js';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/**
 * `GET /v1/jobs/:id/events`: a job's progress as server-sent events. Each event carries its
 * number (`id:`), so a client that reconnects with `Last-Event-ID` gets what it missed from the
 * store, then the live events; the stream ends after `job_finished`.
 */
export async function eventRoutes(app: FastifyInstance, deps: ControlApiDeps): Promise<void> {
  const streams = new Set<ServerResponse>();
  // Open streams would keep the server from closing.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  app.get<{ Params: { id: string }; Headers: { 'last-event-id'?: string } }>(
    '/v1/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's progress as server-sent events (Last-Event-ID replays what was missed)",
        params: {
          type: 'object',
          properties: { id: { type: 'string', maxLength: 200 } },
          required: ['id'],
        },
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,9}$' } },
        },
      },
    },
    async (request, reply) => {
      const jobId = request.params.id;
      if (!deps.jobs.has(jobId)) throw new FedlearnError('JOB_NOT_FOUND', 'no job has this id');
      let lastSent = Number(request.headers['last-event-id'] ?? 0);
      const stream = reply.raw;
      let live = false;
      let ended = false;
      const held: JobEvent[] = [];
      const end = () => {
        if (ended) return;
        ended = true;
        off();
        streams.delete(stream);
        stream.end();
      };
      const send = (event: JobEvent) => {
        if (ended || event.id <= lastSent) return;
        stream.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
        lastSent = event.id;
        if (event.type === 'job_finished') end();
      };
      // Subscribed before the replay is read, so nothing falls between the two.
      const off = deps.feed.subscribe(jobId, (event) => (live ? send(event) : held.push(event)));
      const replay = await deps.feed.replay(jobId, lastSent).catch((error: unknown) => {
        off();
        throw error;
      });
      reply.hijack();
      streams.add(stream);
      stream.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      stream.write(': fedlearn job events\n\n');
      // The response's close is the client going away (the request's fires once it has been read).
      stream.on('close', end);
      for (const event of replay) send(event);
      live = true;
      for (const event of held.splice(0)) send(event);
      if (!ended && FINISHED.has(deps.jobs.get(jobId)?.status ?? '')) {
        // A finished job whose last events were lost (a crash between storing the round and its
        // event) would otherwise leave the stream open forever: send what is stored, then end.
        await deps.feed.flushed();
        for (const event of await deps.feed.replay(jobId, lastSent)) send(event);
        end();
      }
    },
  );
}
