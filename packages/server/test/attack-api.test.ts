import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { API_TOKEN, cleanupAfterEach, isType, nextEvent, RawClient, startCoordinator } from './harness.js';

const cleanups = cleanupAfterEach();
const auth = { authorization: `Bearer ${API_TOKEN}` };

async function setup() {
  const { coordinator } = await startCoordinator();
  cleanups.push(() => coordinator.stop());
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${coordinator.url}${path}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as TypedError };
  };
  return { coordinator, call };
}

interface TypedError {
  error: { code: string; message: string };
}

/** A raw HTTP request, for what fetch refuses to send (oversized headers). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/healthz`, { headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('misuse: the control API at its edges', () => {
  it('cancels a job waiting for clients: it ends cancelled, not failed', async () => {
    const { coordinator, call } = await setup();
    const job = await coordinator.submitJob({ rounds: 1 });
    const cancelled = await call(`/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: auth });
    expect(cancelled.status).toBe(200);
    const done = await coordinator.waitForJob(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.error).toBeUndefined();
    const read = await call(`/v1/jobs/${job.id}`, { headers: auth });
    expect((read.body as unknown as { status: string }).status).toBe('cancelled');
  });

  it('cancels a job waiting for its initial model from a silent client', async () => {
    const { coordinator, call } = await setup();
    const silent = new RawClient(coordinator.url);
    cleanups.push(() => silent.close());
    await silent.connected();
    silent.hello('silent');
    await nextEvent(coordinator, 'client_joined');
    const job = await coordinator.submitJob({ rounds: 1 });
    await silent.waitFor(isType('get_parameters_ins'));
    await call(`/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: auth });
    expect((await coordinator.waitForJob(job.id)).status).toBe('cancelled');
  });

  it('refuses unknown fields in fit and model instead of dropping them', async () => {
    const { call } = await setup();
    for (const spec of [
      { rounds: 1, fit: { learningrate: 0.5 } },
      { rounds: 1, model: { topolgy: {} } },
    ]) {
      const answer = await call('/v1/jobs', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_CONFIG');
      expect(answer.body.error.message).toMatch(/learningrate|topolgy/);
    }
  });

  it('answers unknown routes 404, wrong methods 405, and asks for a token first under /v1', async () => {
    const { call } = await setup();
    const anonymous = await call('/v1/nothing-here');
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    const unknown = await call('/v1/nothing-here', { headers: auth });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const outside = await call('/nothing-here');
    expect([outside.status, outside.body.error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const wrongMethod = await call('/v1/jobs', { method: 'DELETE', headers: auth });
    expect([wrongMethod.status, wrongMethod.body.error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(wrongMethod.headers.get('allow')).toMatch(/GET/);
    const getCancel = await call('/v1/jobs/some-job/cancel', { headers: auth });
    expect([getCancel.status, getCancel.body.error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('answers a wrong content type 415, and fastify’s own 400, 414 and 431 in the typed error shape', async () => {
    const { coordinator, call } = await setup();
    const text = await call('/v1/jobs', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'rounds=1',
    });
    expect([text.status, text.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const badUrl = await call('/v1/jobs/%E0%A4%A', { headers: auth });
    expect([badUrl.status, badUrl.body.error.code]).toEqual([400, 'MALFORMED_MESSAGE']);
    const longParam = await call(`/v1/jobs/${'x'.repeat(500)}`, { headers: auth });
    expect([longParam.status, longParam.body.error.code]).toEqual([414, 'URI_TOO_LONG']);
    const huge = await rawGet(coordinator.url, { 'x-filler': 'y'.repeat(64 * 1024) });
    expect(huge.status).toBe(431);
    expect((JSON.parse(huge.body) as TypedError).error.code).toBe('HEADERS_TOO_LARGE');
  });
});
