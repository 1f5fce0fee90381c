import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcServerHandle, startGrpcServer } from '../../src/grpc/server.js';
import { createServingMetrics } from '../../src/metrics/serving-metrics.js';
import { CLASSES, directPredict, TinyModelService } from '../support/tiny-model-service.js';
import {
  type Client,
  failure,
  healthClient,
  inferenceClient,
  reflectionClient,
  unary,
} from './grpc-client.js';

const ROWS = [
  [0.1, 0.2, 0.3, 0.4],
  [1, -1, 0.5, 2],
];

function typedRequest(extra: Record<string, unknown> = {}) {
  return {
    model_name: 'tiny',
    id: 'req-1',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], contents: { fp32_contents: ROWS.flat() } }],
    ...extra,
  };
}

function rawBytes(values: number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) bytes.writeFloatLE(v, i * 4);
  return bytes;
}

function decodeRaw(bytes: Buffer): number[] {
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

describe('gRPC Open Inference Protocol server (real sockets, client generated from the vendored proto)', () => {
  const service = new TinyModelService();
  let handle: GrpcServerHandle;
  let client: Client;
  const errors: string[] = [];
  const metrics = createServingMetrics();
  metrics.setVersionInUse('tiny', 1); // what the model catalog reports when it loads a version

  beforeAll(async () => {
    handle = await startGrpcServer(service, {
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 64 * 1024,
      onError: (_e, method) => errors.push(method),
      metrics,
    });
    client = inferenceClient(`127.0.0.1:${handle.port}`);
  });
  afterAll(async () => {
    client.close();
    await handle.close();
  });

  it('answers ServerLive, ServerReady, ModelReady and ServerMetadata', async () => {
    expect(await unary(client, 'ServerLive', {})).toEqual({ live: true });
    expect(await unary(client, 'ServerReady', {})).toEqual({ ready: true });
    expect(await unary(client, 'ModelReady', { name: 'tiny' })).toEqual({ ready: true });
    expect(await unary(client, 'ModelReady', { name: 'tiny', version: '9' })).toEqual({ ready: false });
    expect(await unary(client, 'ModelReady', { name: 'other' })).toEqual({ ready: false });
    expect(await unary(client, 'ServerMetadata', {})).toEqual({
      name: 'fedlearn',
      version: '0.1.0',
      extensions: ['model_stream_infer'],
    });
  });

  it('answers ModelMetadata from the served signature, NOT_FOUND for an unknown model', async () => {
    expect(await unary(client, 'ModelMetadata', { name: 'tiny' })).toEqual({
      name: 'tiny',
      versions: ['1'],
      platform: 'tfjs',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] }],
    });
    const error = await failure(unary(client, 'ModelMetadata', { name: 'nope' }));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
  });

  it('ModelInfer with typed contents returns what the model computes, with name, version and id', async () => {
    const response = await unary<{
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; shape: number[]; contents: { fp32_contents: number[] } }[];
      raw_output_contents: Buffer[];
    }>(client, 'ModelInfer', typedRequest());
    expect(response.model_name).toBe('tiny');
    expect(response.model_version).toBe('1');
    expect(response.id).toBe('req-1');
    expect(response.raw_output_contents).toEqual([]);
    expect(response.outputs[0]!.shape).toEqual([2, CLASSES]);
    const expected = directPredict(service.models.get('tiny')!.model, ROWS);
    expect(response.outputs[0]!.contents.fp32_contents).toEqual(Array.from(expected));
  });

  it('ModelInfer with little-endian raw_input_contents answers raw_output_contents', async () => {
    const response = await unary<{ outputs: { contents?: unknown }[]; raw_output_contents: Buffer[] }>(
      client,
      'ModelInfer',
      {
        model_name: 'tiny',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4] }],
        raw_input_contents: [rawBytes(ROWS.flat())],
      },
    );
    expect(response.outputs[0]!.contents).toBeNull();
    const expected = directPredict(service.models.get('tiny')!.model, ROWS);
    expect(decodeRaw(response.raw_output_contents[0]!)).toEqual(Array.from(expected));
  });

  it('ModelStreamInfer answers each request on the stream, errors included, and the stream goes on', async () => {
    const call = (client['ModelStreamInfer'] as () => grpc.ClientDuplexStream<unknown, unknown>)();
    const responses: { error_message: string; infer_response: { id: string; model_version: string } }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (r) => responses.push(r as (typeof responses)[number]));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write(typedRequest({ id: 'a' }));
    call.write(
      typedRequest({
        id: 'bad',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }],
      }),
    );
    call.write(typedRequest({ id: 'b' }));
    call.end();
    await done;
    const byId = new Map(responses.map((r) => [r.infer_response.id, r]));
    expect([...byId.keys()].sort()).toEqual(['a', 'b', 'bad']);
    expect(byId.get('a')!.error_message).toBe('');
    expect(byId.get('a')!.infer_response.model_version).toBe('1');
    expect(byId.get('b')!.error_message).toBe('');
    expect(byId.get('bad')!.error_message).toMatch(/^INPUT_SIGNATURE_MISMATCH: input shape/);
  });

  it('serves the standard health service, which follows readiness', async () => {
    const health = healthClient(`127.0.0.1:${handle.port}`);
    expect(await unary(health, 'check', { service: '' })).toEqual({ status: 'SERVING' });
    expect(await unary(health, 'check', { service: 'inference.GRPCInferenceService' })).toEqual({
      status: 'SERVING',
    });
    const saved = new Map(service.models);
    service.models.clear();
    handle.refreshHealth();
    expect(await unary(health, 'check', { service: 'inference.GRPCInferenceService' })).toEqual({
      status: 'NOT_SERVING',
    });
    for (const [k, v] of saved) service.models.set(k, v);
    handle.refreshHealth();
    expect(await unary(health, 'check', { service: 'inference.GRPCInferenceService' })).toEqual({
      status: 'SERVING',
    });
    health.close();
  });

  it('serves reflection listing the inference and health services', async () => {
    const reflection = reflectionClient(`127.0.0.1:${handle.port}`);
    const call = (reflection['ServerReflectionInfo'] as () => grpc.ClientDuplexStream<unknown, unknown>)();
    const answer = new Promise<{ list_services_response: { service: { name: string }[] } }>(
      (resolve, reject) => {
        call.on('data', (r) => resolve(r as never));
        call.on('error', reject);
      },
    );
    call.write({ list_services: '*' });
    const names = (await answer).list_services_response.service.map((s) => s.name);
    call.end();
    reflection.close();
    expect(names).toContain('inference.GRPCInferenceService');
    expect(names).toContain('grpc.health.v1.Health');
  });

  describe('bad input gets its gRPC status and the server keeps serving', () => {
    const cases: [string, Record<string, unknown>, grpc.status, RegExp][] = [
      [
        'wrong shape',
        typedRequest({
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } },
          ],
        }),
        grpc.status.INVALID_ARGUMENT,
        /input shape/,
      ],
      [
        'wrong dtype',
        typedRequest({
          inputs: [
            { name: 'input', datatype: 'INT32', shape: [1, 4], contents: { int_contents: [1, 2, 3, 4] } },
          ],
        }),
        grpc.status.INVALID_ARGUMENT,
        /datatype must be FP32/,
      ],
      [
        'missing model_name',
        typedRequest({ model_name: '' }),
        grpc.status.INVALID_ARGUMENT,
        /model_name is required/,
      ],
      ['missing inputs', typedRequest({ inputs: [] }), grpc.status.INVALID_ARGUMENT, /inputs is empty/],
      [
        'contents shorter than the shape',
        typedRequest({
          inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], contents: { fp32_contents: [1] } }],
        }),
        grpc.status.INVALID_ARGUMENT,
        /has 1 values, shape needs 8/,
      ],
      [
        'raw bytes not matching the shape',
        {
          model_name: 'tiny',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }],
          raw_input_contents: [Buffer.alloc(7)],
        },
        grpc.status.INVALID_ARGUMENT,
        /has 7 bytes/,
      ],
      [
        'a shape claiming too many elements',
        typedRequest({
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1e6, 1e6], contents: { fp32_contents: [] } }],
        }),
        grpc.status.RESOURCE_EXHAUSTED,
        /elements/,
      ],
      ['an unknown model', typedRequest({ model_name: 'nope' }), grpc.status.NOT_FOUND, /MODEL_NOT_SERVED/],
      ['an unknown version', typedRequest({ model_version: '7' }), grpc.status.NOT_FOUND, /MODEL_NOT_SERVED/],
    ];
    for (const [label, request, code, details] of cases) {
      it(label, async () => {
        const error = await failure(unary(client, 'ModelInfer', request));
        expect(error.code).toBe(code);
        expect(error.details).toMatch(details);
        expect(
          (await unary<{ model_version: string }>(client, 'ModelInfer', typedRequest())).model_version,
        ).toBe('1');
      });
    }

    it('an oversized message is RESOURCE_EXHAUSTED before it is decoded', async () => {
      const before = service.calls;
      const big = typedRequest({
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [5000, 4],
            contents: { fp32_contents: new Array(20_000).fill(0.5) },
          },
        ],
      });
      const error = await failure(unary(client, 'ModelInfer', big));
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(service.calls).toBe(before);
      expect(
        (await unary<{ model_version: string }>(client, 'ModelInfer', typedRequest())).model_version,
      ).toBe('1');
    });

    it('the call deadline reaches the service: past it, DEADLINE_EXCEEDED', async () => {
      service.now = Date.now() + 120_000;
      try {
        const error = await failure(unary(client, 'ModelInfer', typedRequest(), new grpc.Metadata(), 60_000));
        expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
        expect(error.details).toMatch(/^DEADLINE_EXCEEDED: the request deadline passed/);
      } finally {
        service.now = 0;
      }
    });

    it('a full queue is RESOURCE_EXHAUSTED', async () => {
      service.queueFull = true;
      try {
        const error = await failure(unary(client, 'ModelInfer', typedRequest()));
        expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
        expect(error.details).toMatch(/^SERVING_QUEUE_FULL/);
      } finally {
        service.queueFull = false;
      }
    });

    it('an unavailable backend is UNAVAILABLE', async () => {
      service.unavailable.add('tiny');
      try {
        const error = await failure(unary(client, 'ModelInfer', typedRequest()));
        expect(error.code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        service.unavailable.delete('tiny');
      }
      expect(errors).toContain('ModelInfer');
    });

    it('counts inference requests per outcome in the grpc protocol metrics', async () => {
      const text = await metrics.registry.getSingleMetricAsString('fedlearn_serving_requests_total');
      expect(text).toMatch(/\{protocol="grpc",model="tiny",outcome="ok"\} [1-9]/);
      expect(text).toMatch(/\{protocol="grpc",model="tiny",outcome="INPUT_SIGNATURE_MISMATCH"\} [1-9]/);
      // A name the server does not serve is not a series of its own (callers choose names freely).
      expect(text).toMatch(/\{protocol="grpc",model="\(not served\)",outcome="MODEL_NOT_SERVED"\} 1/);
      expect(text).not.toContain('model="nope"');
    });
  });
});

describe('gRPC auth and TLS', () => {
  const service = new TinyModelService();

  it('with auth on, a missing or wrong token is UNAUTHENTICATED on unary and stream rpcs; the right one works', async () => {
    const handle = await startGrpcServer(service, {
      host: '127.0.0.1',
      port: 0,
      authenticate: (token) => token === 'secret-token',
    });
    const client = inferenceClient(`127.0.0.1:${handle.port}`);
    try {
      const before = service.calls;
      const none = await failure(unary(client, 'ModelInfer', typedRequest()));
      expect(none.code).toBe(grpc.status.UNAUTHENTICATED);
      const wrong = new grpc.Metadata();
      wrong.set('authorization', 'Bearer guess');
      expect((await failure(unary(client, 'ServerLive', {}, wrong))).code).toBe(grpc.status.UNAUTHENTICATED);
      const stream = (
        client['ModelStreamInfer'] as (m: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>
      )(wrong);
      const streamError = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.on('data', () => {});
      stream.write(typedRequest());
      expect((await streamError).code).toBe(grpc.status.UNAUTHENTICATED);
      expect(service.calls).toBe(before);

      const right = new grpc.Metadata();
      right.set('authorization', 'Bearer secret-token');
      expect(
        (await unary<{ model_name: string }>(client, 'ModelInfer', typedRequest(), right)).model_name,
      ).toBe('tiny');
      const apiKey = new grpc.Metadata();
      apiKey.set('x-api-key', 'secret-token');
      expect(await unary(client, 'ServerLive', {}, apiKey)).toEqual({ live: true });
    } finally {
      client.close();
      await handle.close();
    }
  });

  it('with TLS, a client trusting the certificate is served and a plaintext client is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-grpc-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const handle = await startGrpcServer(service, {
      host: '127.0.0.1',
      port: 0,
      tls: { cert, key: readFileSync(join(dir, 'key.pem')) },
    });
    const secure = inferenceClient(`localhost:${handle.port}`, grpc.credentials.createSsl(cert));
    const plain = inferenceClient(`127.0.0.1:${handle.port}`);
    try {
      expect(
        (await unary<{ model_version: string }>(secure, 'ModelInfer', typedRequest())).model_version,
      ).toBe('1');
      expect((await failure(unary(plain, 'ServerLive', {}, new grpc.Metadata(), 5_000))).code).toBe(
        grpc.status.UNAVAILABLE,
      );
    } finally {
      secure.close();
      plain.close();
      await handle.close();
    }
  });
});
