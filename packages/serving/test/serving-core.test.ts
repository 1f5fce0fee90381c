import { packModelFolder } from '@fedlearn/registry';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DRIFT_REFERENCE_FILE,
  histogramCounts,
  serializeDriftReference,
  uniformEdges,
} from '../src/drift/drift-reference.js';
import type { NamedTensor } from '../src/inference/contract.js';
import { startServingBackend } from '../src/models/backend.js';
import { type ServingCore, startServingCore } from '../src/serving-core.js';
import { capturingLogger, ManualScheduler } from './fixtures/harness.js';
import {
  CLASSES,
  createTestRegistry,
  FEATURES,
  MODEL,
  type TestRegistry,
  tinyClassifier,
} from './fixtures/registered-models.js';

function rows(values: number[][]): NamedTensor {
  return {
    name: 'hidden_input',
    datatype: 'FP32',
    shape: [values.length, FEATURES],
    data: Float32Array.from(values.flat()),
  };
}

const instances = [
  [0.1, 0.2, 0.3, 0.4],
  [1, -1, 0.5, 2],
  [-0.3, 0.8, 0.1, 0],
  [2, 2, -2, 1],
];

let registry: TestRegistry;
let core: ServingCore | undefined;
let scheduler: ManualScheduler;
let log: ReturnType<typeof capturingLogger>;

beforeAll(async () => {
  await startServingBackend('cpu');
});
beforeEach(async () => {
  registry = await createTestRegistry();
  await registry.register(await tinyClassifier(1));
  scheduler = new ManualScheduler();
  log = capturingLogger();
});
afterEach(async () => {
  core?.close();
  core = undefined;
  await registry.cleanup();
});

async function start(batching = { enabled: true, maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueRows: 6 }) {
  core = await startServingCore({
    source: registry.lifecycle,
    models: [MODEL],
    logger: log.logger,
    batching,
    pollIntervalMs: 0,
    scheduler,
    now: () => scheduler.now(),
  });
  return core;
}

/** Runs `infer` calls and lets the manual scheduler flush them as one batch. */
async function inferAll(c: ServingCore, requests: NamedTensor[]) {
  const pending = requests.map((input) => c.service.infer({ model: MODEL, inputs: [input] }));
  scheduler.runAll();
  return Promise.all(pending);
}

describe('model catalog and hot swap', () => {
  it('serves the champion and names the version in every result', async () => {
    const c = await start();
    const [result] = await inferAll(c, [rows(instances)]);
    expect(result!.version).toBe('1');
    expect(result!.model).toBe(MODEL);
    expect(result!.outputs[0]!.shape).toEqual([4, CLASSES]);
    const sums = [0, 1, 2, 3].map((r) =>
      result!.outputs[0]!.data.slice(r * 3, r * 3 + 3).reduce((a, b) => a + b),
    );
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    expect(c.service.modelInfo(MODEL).alias).toBe('champion');
  });

  it('swaps to the version the alias moved to, and tells subscribers', async () => {
    const c = await start();
    const v2 = await registry.register(await tinyClassifier(2));
    const events: unknown[] = [];
    c.service.onSwap((e) => events.push(e));
    await c.catalog.refresh();
    expect(c.service.modelInfo(MODEL).version).toBe('1');
    await registry.setChampion(v2);
    await c.catalog.refresh();
    const [after] = await inferAll(c, [rows(instances.slice(0, 1))]);
    expect(after!.version).toBe('2');
    expect(events).toEqual([expect.objectContaining({ model: MODEL, previousVersion: '1', version: '2' })]);
    expect(log.lines.some((l) => String(l['msg']).includes('now serving v2'))).toBe(true);
  });

  it('lets a request that started on the old version finish on it, then frees the old model', async () => {
    const c = await start();
    const old = c.catalog.peek(MODEL)!;
    const inFlight = c.service.infer({ model: MODEL, inputs: [rows(instances.slice(0, 2))] });
    await registry.setChampion(await registry.register(await tinyClassifier(2)));
    await c.catalog.refresh();
    expect(c.catalog.peek(MODEL)!.version).toBe('2');
    expect(old.isDisposed).toBe(false);
    scheduler.runAll();
    const result = await inFlight;
    expect(result.version).toBe('1');
    expect(old.isDisposed).toBe(true);
  });

  it('refuses a broken new version: the old keeps serving, with a log line and a metric', async () => {
    const c = await start();
    const broken = await registry.register(await tinyClassifier(3), {
      signature: {
        inputs: [{ name: 'hidden_input', dtype: 'float32', shape: [-1, FEATURES + 1] }],
        outputs: [{ name: 'output', dtype: 'float32', shape: [-1, CLASSES] }],
      },
    });
    await registry.setChampion(broken);
    await c.catalog.refresh();
    const [result] = await inferAll(c, [rows(instances.slice(0, 1))]);
    expect(result!.version).toBe('1');
    const metrics = await c.metrics.registry.getSingleMetricAsString('fedlearn_serving_model_swaps_total');
    expect(metrics).toContain(`fedlearn_serving_model_swaps_total{model="${MODEL}",result="refused"} 1`);
    const line = log.lines.find((l) => l['code'] === 'MODEL_VERSION_REFUSED');
    expect(line).toMatchObject({ model: MODEL, servingVersion: '1', refusedVersion: String(broken) });
  });

  it('polls the alias on the injected timer', async () => {
    let tick: (() => void) | undefined;
    core = await startServingCore({
      source: registry.lifecycle,
      models: [MODEL],
      logger: log.logger,
      pollIntervalMs: 1000,
      timer: {
        every: (_ms, task) => {
          tick = task;
          return () => (tick = undefined);
        },
      },
    });
    const swapped = new Promise((resolve) => core!.service.onSwap(resolve));
    await registry.setChampion(await registry.register(await tinyClassifier(2)));
    tick!();
    await swapped;
    expect(core.service.modelInfo(MODEL).version).toBe('2');
  });

  it('answers MODEL_NOT_SERVED for an unknown model or version', async () => {
    const c = await start();
    await expect(c.service.infer({ model: 'nope', inputs: [rows(instances)] })).rejects.toMatchObject({
      code: 'MODEL_NOT_SERVED',
    });
    await expect(
      c.service.infer({ model: MODEL, version: '9', inputs: [rows(instances)] }),
    ).rejects.toMatchObject({ code: 'MODEL_NOT_SERVED' });
  });
});

describe('dynamic batching', () => {
  it('merges concurrent requests into one run and splits the outputs back exactly', async () => {
    const c = await start();
    const alone = [];
    for (const inst of instances) alone.push((await inferAll(c, [rows([inst])]))[0]!.outputs[0]!.data);
    const batchesBefore = await c.metrics.registry.getSingleMetricAsString('fedlearn_serving_batch_rows');
    const merged = await inferAll(c, [
      rows([instances[0]!]),
      rows([instances[1]!, instances[2]!]),
      rows([instances[3]!]),
    ]);
    expect(Array.from(merged[0]!.outputs[0]!.data)).toEqual(Array.from(alone[0]!));
    expect(Array.from(merged[1]!.outputs[0]!.data)).toEqual([...alone[1]!, ...alone[2]!]);
    expect(Array.from(merged[2]!.outputs[0]!.data)).toEqual(Array.from(alone[3]!));
    const batchesAfter = await c.metrics.registry.getSingleMetricAsString('fedlearn_serving_batch_rows');
    expect(batchesBefore).toContain(`fedlearn_serving_batch_rows_count{model="${MODEL}"} 4`);
    expect(batchesAfter).toContain(`fedlearn_serving_batch_rows_count{model="${MODEL}"} 5`);
    expect(batchesAfter).toContain(`fedlearn_serving_batch_rows_sum{model="${MODEL}"} 8`);
  });

  it('refuses with SERVING_QUEUE_FULL when the queue holds maxQueueRows', async () => {
    const c = await start();
    const queued = c.service.infer({ model: MODEL, inputs: [rows([...instances, instances[0]!])] });
    await expect(
      c.service.infer({ model: MODEL, inputs: [rows(instances.slice(0, 2))] }),
    ).rejects.toMatchObject({
      code: 'SERVING_QUEUE_FULL',
    });
    scheduler.runAll();
    expect((await queued).outputs[0]!.shape).toEqual([5, CLASSES]);
  });

  it('refuses a request whose deadline passed while it waited, and runs the others', async () => {
    const c = await start();
    const late = c.service.infer(
      { model: MODEL, inputs: [rows([instances[0]!])] },
      { deadline: scheduler.now() + 10 },
    );
    const onTime = c.service.infer({ model: MODEL, inputs: [rows([instances[1]!])] });
    scheduler.time += 11;
    scheduler.runAll();
    await expect(late).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect((await onTime).version).toBe('1');
  });

  it('leaves no tensor behind after many batched requests and a swap', async () => {
    const c = await start();
    await inferAll(c, [rows(instances)]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await inferAll(c, [rows(instances), rows([instances[0]!])]);
    expect(tf.memory().numTensors).toBe(before);
    await registry.setChampion(await registry.register(await tinyClassifier(2)));
    await c.catalog.refresh();
    await inferAll(c, [rows(instances)]);
    // The old version's weights were freed and the new one's allocated: same model, same count.
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('drift monitoring wired to the served version', () => {
  it('scores live inputs against the reference stored beside MLmodel, from the swap on', async () => {
    const c = await start({ enabled: true, maxBatchSize: 64, maxQueueDelayMs: 0, maxQueueRows: 4096 });
    const edges = Array.from({ length: FEATURES }, () => uniformEdges(-3, 3, 6));
    const training = Float32Array.from({ length: 400 * FEATURES }, (_, i) => ((i * 7919) % 600) / 100 - 3);
    const { files } = packModelFolder({
      artifacts: await tinyClassifier(2),
      job: {
        jobId: `job-${MODEL}`,
        modelName: MODEL,
        strategy: 'fedavg',
        rounds: 2,
        clients: 2,
        secureAggregation: true,
      },
      metadata: { round: 2, metrics: { accuracy: 0.5 } },
      history: [],
      createdAt: new Date(0).toISOString(),
      modelUuid: 'drift-test',
    });
    files.set(
      DRIFT_REFERENCE_FILE,
      serializeDriftReference({
        features: FEATURES,
        edges,
        counts: histogramCounts(training, 400, edges),
        examples: 400,
      }),
    );
    const v2 = await registry.lifecycle.registry.createVersion({
      name: MODEL,
      files,
      metrics: { accuracy: 0.5 },
    });
    await registry.setChampion(v2.version);
    await c.catalog.refresh();
    expect(c.catalog.peek(MODEL)!.drift).toBeDefined();
    // Shifted inputs: every feature far above the training range lands in the last bin.
    const shifted = Array.from({ length: 600 }, () => [5, 5, 5, 5]);
    await inferAll(c, [rows(shifted)]);
    const score = await c.metrics.registry.getSingleMetricAsString('fedlearn_serving_drift_score');
    const value = Number(
      new RegExp(
        `fedlearn_serving_drift_score\\{model="${MODEL}",version="${v2.version}"\\} ([0-9.e+-]+)`,
      ).exec(score)?.[1],
    );
    expect(value).toBeGreaterThan(0.25);
  });
});
