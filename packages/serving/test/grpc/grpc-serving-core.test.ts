import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcServerHandle, startGrpcServer } from '../../src/grpc/server.js';
import type { ServingCore } from '../../src/serving-core.js';
import { MODEL, type TestRegistry } from '../fixtures/registered-models.js';
import { promoteNewVersion, startRegisteredCore } from '../support/registered-core.js';
import { type Client, failure, inferenceClient, unary } from './grpc-client.js';

const ROW = [0.1, 0.2, 0.3, 0.4];

function request(id: string, shape = [1, 4], values = ROW) {
  const raw = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) raw.writeFloatLE(v, i * 4);
  return {
    model_name: MODEL,
    id,
    inputs: [{ name: 'hidden_input', datatype: 'FP32', shape }],
    raw_input_contents: [raw],
  };
}

describe('gRPC end to end through the serving core (a model registered in a real local registry)', () => {
  let registry: TestRegistry;
  let core: ServingCore;
  let server: GrpcServerHandle;
  let client: Client;

  beforeAll(async () => {
    ({ registry, core } = await startRegisteredCore());
    server = await startGrpcServer(core.service, { host: '127.0.0.1', port: 0 });
    client = inferenceClient(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    client.close();
    await server.close();
    core.close();
    await registry.cleanup();
  });

  it('answers metadata and raw inference from the champion, then from the new champion after a swap', async () => {
    const metadata = await unary<{ versions: string[]; inputs: { name: string; shape: number[] }[] }>(
      client,
      'ModelMetadata',
      { name: MODEL },
    );
    expect(metadata.versions).toEqual(['1']);
    expect(metadata.inputs[0]).toMatchObject({ name: 'hidden_input', shape: [-1, 4] });

    const first = await unary<{ model_version: string; id: string; raw_output_contents: Buffer[] }>(
      client,
      'ModelInfer',
      request('before'),
    );
    expect(first).toMatchObject({ model_version: '1', id: 'before' });
    const probabilities = Array.from({ length: 3 }, (_, i) =>
      first.raw_output_contents[0]!.readFloatLE(i * 4),
    );
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    const v2 = await promoteNewVersion(registry, core, 2);

    const call = (client['ModelStreamInfer'] as () => grpc.ClientDuplexStream<unknown, unknown>)();
    const answers: { error_message: string; infer_response: { id: string; model_version: string } }[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (a) => answers.push(a as (typeof answers)[number]));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write(request('after'));
    call.write(request('wrong-width', [1, 3], [1, 2, 3]));
    call.end();
    await ended;
    const byId = new Map(answers.map((a) => [a.infer_response.id, a]));
    expect(byId.get('after')).toMatchObject({
      error_message: '',
      infer_response: { model_version: String(v2) },
    });
    expect(byId.get('wrong-width')!.error_message).toMatch(
      /^INPUT_SIGNATURE_MISMATCH: inputs\[0\]\.shape\[1\]/,
    );
  });

  it("maps the core's refusals to gRPC status codes", async () => {
    const wrongName = { ...request('x'), inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4] }] };
    expect((await failure(unary(client, 'ModelInfer', wrongName))).code).toBe(grpc.status.INVALID_ARGUMENT);
    const unknown = { ...request('y'), model_name: 'not-served' };
    const error = await failure(unary(client, 'ModelInfer', unknown));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.details).toMatch(/^MODEL_NOT_SERVED/);
  });

  it('hot swap under gRPC load: no request fails and every response names the version that produced it', async () => {
    const before = core.service.modelInfo(MODEL).version;
    const versions: string[] = [];
    const failures: unknown[] = [];
    let swapped = false;
    const clients = 8;
    // Each load client keeps one request in flight until the swap is done and 20 more have been answered.
    const load = Array.from({ length: clients }, async (_, c) => {
      let afterSwap = 0;
      for (let i = 0; afterSwap < 20; i += 1) {
        try {
          const wasSwapped = swapped;
          const r = await unary<{ model_version: string }>(client, 'ModelInfer', request(`c${c}-${i}`));
          versions.push(r.model_version);
          if (wasSwapped) afterSwap += 1;
        } catch (error) {
          failures.push(error);
          if (failures.length > 10) return;
        }
      }
    });
    const next = await promoteNewVersion(registry, core, 3);
    swapped = true;
    await Promise.all(load);
    expect(failures).toEqual([]);
    expect(new Set(versions)).toContain(String(next));
    expect([...new Set(versions)].every((v) => v === before || v === String(next))).toBe(true);
    // Requests sent after the swap completed are all answered by the new version.
    expect(versions.slice(-clients)).toEqual(new Array(clients).fill(String(next)));
  });
});
