import { FedlearnError } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import { type ClientEnrollments, enrollmentView } from './enrollment.js';

/**
 * Enrollment routes of the control API, registered inside its authenticated `/v1` scope: enroll a
 * client (its credential is in this one answer), list and get enrollments, revoke a client (it is
 * cut off at once).
 */
export async function enrollmentRoutes(
  app: FastifyInstance,
  { enrollments }: { enrollments: ClientEnrollments },
): Promise<void> {
  app.post('/v1/enrollments', { bodyLimit: 4096 }, async (request, reply) => {
    const { enrollment, credential } = await enrollments.enroll(request.body);
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ ...enrollmentView(enrollment), credential });
  });
  app.get('/v1/enrollments', async () => ({ enrollments: enrollments.list().map(enrollmentView) }));
  app.get<{ Params: { clientId: string } }>('/v1/enrollments/:clientId', async (request) => {
    const record = enrollments.get(request.params.clientId);
    if (!record) throw new FedlearnError('CLIENT_NOT_ENROLLED', 'no client with this id is enrolled');
    return enrollmentView(record);
  });
  app.post<{ Params: { clientId: string } }>('/v1/enrollments/:clientId/revoke', async (request) =>
    enrollmentView(await enrollments.revoke(request.params.clientId)),
  );
}
