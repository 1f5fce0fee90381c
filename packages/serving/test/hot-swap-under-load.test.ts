import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, MODEL, tinyClassifier } from './fixtures/registered-models.js';
import { API_KEY, startTestServing, type TestServing } from './fixtures/serving-server.js';
import { inferenceClient, unary } from './grpc/grpc-client.js';

let s: TestServing;
beforeAll(async () => {
  s = await startTestServing({ grpc: { enabled: true, port: 0 } });
});
afterAll(async () => {
  await s.stop();
});

interface Outcome {
  ok: boolean;
  version?: string;
  /** Whether the request was sent after the swap had completed. */
  afterSwap: boolean;
  error?: string;
}

describe('hot swap under load', () => {
  it('moves the alias while REST and gRPC clients keep sending: zero failures, every response names its version', {
    timeout: 120_000,
  }, async () => {
    const instance = [0.1, 0.2, 0.3, 0.4];
    const outcomes: Outcome[] = [];
    let swapped = false;
    let stop = false;
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${API_KEY}`);
    const client = inferenceClient(`127.0.0.1:${s.serving.grpc!.port}`);

    const restLoop = async () => {
      while (!stop) {
        const afterSwap = swapped;
        try {
          const r = await s.call(`/v1/models/${MODEL}/predict`, { body: { instance } });
          outcomes.push({
            ok: r.status === 200,
            version: r.body.version,
            afterSwap,
            ...(r.status === 200 ? {} : { error: JSON.stringify(r.body) }),
          });
        } catch (error) {
          outcomes.push({ ok: false, afterSwap, error: String(error) });
        }
      }
    };
    const grpcLoop = async () => {
      while (!stop) {
        const afterSwap = swapped;
        try {
          const r = await unary<{ model_version: string }>(
            client,
            'ModelInfer',
            {
              model_name: MODEL,
              inputs: [
                {
                  name: 'hidden_input',
                  datatype: 'FP32',
                  shape: [1, FEATURES],
                  contents: { fp32_contents: instance },
                },
              ],
            },
            metadata,
          );
          outcomes.push({ ok: true, version: r.model_version, afterSwap });
        } catch (error) {
          outcomes.push({ ok: false, afterSwap, error: String(error) });
        }
      }
    };
    const loops = [...Array.from({ length: 8 }, restLoop), ...Array.from({ length: 8 }, grpcLoop)];

    const until = async (predicate: () => boolean) => {
      while (!predicate()) await new Promise((resolve) => setImmediate(resolve));
    };
    await until(() => outcomes.length >= 60);
    const v2 = await s.registry.register(await tinyClassifier(2));
    await s.registry.setChampion(v2);
    await s.serving.core.catalog.refresh();
    swapped = true;
    const seenBefore = outcomes.length;
    await until(() => outcomes.length >= seenBefore + 120);
    stop = true;
    await Promise.all(loops);
    client.close();

    const failures = outcomes.filter((o) => !o.ok);
    expect(failures).toEqual([]);
    expect(new Set(outcomes.map((o) => o.version))).toEqual(new Set(['1', String(v2)]));
    // Requests sent after the swap completed were all answered by the new version.
    expect(outcomes.filter((o) => o.afterSwap).every((o) => o.version === String(v2))).toBe(true);
    expect(outcomes.filter((o) => o.afterSwap).length).toBeGreaterThanOrEqual(100);
    const metrics = (await s.call('/metrics')).body as string;
    for (const protocol of ['rest', 'grpc']) {
      expect(metrics).toMatch(
        new RegExp(
          `fedlearn_serving_requests_total\\{protocol="${protocol}",model="${MODEL}",outcome="ok"\\} [1-9]`,
        ),
      );
    }
    expect(metrics).toContain(`fedlearn_serving_model_swaps_total{model="${MODEL}",result="swapped"} 1`);
    expect(outcomes.filter((o) => o.version === '1').length).toBeGreaterThanOrEqual(60);
  });
});
