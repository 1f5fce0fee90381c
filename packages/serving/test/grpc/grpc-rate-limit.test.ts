import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcServerHandle, startGrpcServer } from '../../src/grpc/server.js';
import { TinyModelService } from '../support/tiny-model-service.js';
import { type Client, failure, inferenceClient, unary } from './grpc-client.js';

const KEY_A = 'tenant-a-key-0123456789';
const KEY_B = 'tenant-b-key-0123456789';
const LIMIT = 3;

function request(id: string) {
  return {
    model_name: 'tiny',
    id,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }],
  };
}

function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

describe('gRPC per-caller rate limit (attack: one tenant floods the server)', () => {
  const service = new TinyModelService();
  let handle: GrpcServerHandle;
  let client: Client;
  let now = 0;

  beforeAll(async () => {
    handle = await startGrpcServer(service, {
      host: '127.0.0.1',
      port: 0,
      authenticate: (token) => token === KEY_A || token === KEY_B,
      rateLimit: { max: LIMIT, windowMs: 60_000, now: () => now },
    });
    client = inferenceClient(`127.0.0.1:${handle.port}`);
  });
  afterAll(async () => {
    client.close();
    await handle.close();
  });

  it('refuses the flooding tenant RESOURCE_EXHAUSTED without running the model; the other tenant is served', async () => {
    for (let i = 0; i < LIMIT; i += 1) {
      const ok = await unary<{ id: string }>(client, 'ModelInfer', request(`a${i}`), bearer(KEY_A));
      expect(ok.id).toBe(`a${i}`);
    }
    const calls = service.calls;
    const refused = await failure(unary(client, 'ModelInfer', request('a-over'), bearer(KEY_A)));
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/^RATE_LIMITED: rate limit: 3 requests per 60000 ms/);
    // Metadata rpcs count too: the limit is per caller, not per method.
    expect((await failure(unary(client, 'ServerLive', {}, bearer(KEY_A)))).code).toBe(
      grpc.status.RESOURCE_EXHAUSTED,
    );
    expect(service.calls).toBe(calls);

    const other = await unary<{ id: string; model_version: string }>(
      client,
      'ModelInfer',
      request('b0'),
      bearer(KEY_B),
    );
    expect(other).toMatchObject({ id: 'b0', model_version: '1' });
  });

  it('counts every ModelStreamInfer message: over the limit a message is answered RESOURCE_EXHAUSTED, the stream goes on', async () => {
    now += 60_000; // a new window for everyone
    const call = (
      client['ModelStreamInfer'] as (m: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>
    )(bearer(KEY_B));
    const responses: { error_message: string; infer_response: { id: string } }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (r) => responses.push(r as (typeof responses)[number]));
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (let i = 0; i < LIMIT + 2; i += 1) call.write(request(`s${i}`));
    call.end();
    await done;
    expect(responses).toHaveLength(LIMIT + 2);
    const ok = responses.filter((r) => r.error_message === '');
    const limited = responses.filter((r) => r.error_message.startsWith('RATE_LIMITED'));
    expect(ok).toHaveLength(LIMIT);
    expect(limited).toHaveLength(2);

    // Tenant A's fresh window is untouched by B's stream.
    expect((await unary<{ id: string }>(client, 'ModelInfer', request('a-new'), bearer(KEY_A))).id).toBe(
      'a-new',
    );
  });

  it('without a token, callers are counted by address', async () => {
    now += 60_000;
    const open = await startGrpcServer(service, {
      host: '127.0.0.1',
      port: 0,
      rateLimit: { max: 1, windowMs: 60_000, now: () => now },
    });
    const anonymous = inferenceClient(`127.0.0.1:${open.port}`);
    try {
      expect((await unary<{ id: string }>(anonymous, 'ModelInfer', request('x'))).id).toBe('x');
      expect((await failure(unary(anonymous, 'ModelInfer', request('y')))).code).toBe(
        grpc.status.RESOURCE_EXHAUSTED,
      );
    } finally {
      anonymous.close();
      await open.close();
    }
  });
});
