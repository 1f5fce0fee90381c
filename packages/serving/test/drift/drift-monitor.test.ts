import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DriftMonitor } from '../../src/drift/drift-monitor.js';
import {
  type DriftReference,
  histogramCounts,
  parseDriftReference,
  readDriftReference,
  serializeDriftReference,
  uniformEdges,
} from '../../src/drift/drift-reference.js';
import { digits, inverted, PIXELS, shifted } from './mnist-digits.js';

const EDGES = Array.from({ length: PIXELS }, () => uniformEdges(0, 1, 10));
const WINDOW = 1000;

/** Three "clients" bin their own training digits; only the count vectors are added up. */
function federatedReference(): DriftReference {
  const clients = [digits(0, 200), digits(200, 200), digits(400, 200)];
  const counts = EDGES.map((e) => new Array<number>(e.length - 1).fill(0));
  for (const images of clients) {
    const local = histogramCounts(images, images.length / PIXELS, EDGES);
    for (let f = 0; f < PIXELS; f += 1) for (let b = 0; b < 10; b += 1) counts[f]![b]! += local[f]![b]!;
  }
  return { features: PIXELS, edges: EDGES, counts, examples: 6000, source: { clients: 3 } };
}

function logger() {
  const lines: { level: string; object: Record<string, unknown>; message: string }[] = [];
  return {
    lines,
    warn: (object: object, message: string) =>
      lines.push({ level: 'warn', object: object as never, message }),
    info: (object: object, message: string) =>
      lines.push({ level: 'info', object: object as never, message }),
  };
}

describe('drift: PSI of live MNIST inputs against federated training histograms', () => {
  const reference = federatedReference();
  const mnistMonitor = (registry: Registry, log: ReturnType<typeof logger>) =>
    new DriftMonitor({ model: 'mnist', version: '3', reference, registry, windowSize: WINDOW, logger: log });

  it('the reference summed from clients equals the histogram of all their data, and round-trips its file', () => {
    const all = digits(0, 600);
    expect(reference.counts).toEqual(histogramCounts(all, all.length / PIXELS, EDGES));
    const bytes = serializeDriftReference(reference);
    expect(JSON.parse(new TextDecoder().decode(bytes)).edges).toEqual(EDGES[0]);
    expect(readDriftReference(new Map([['drift-reference.json', bytes]]))).toEqual(reference);
    expect(readDriftReference(new Map())).toBeUndefined();
  });

  it.each([
    { label: 'inverted digits', transform: (x: Float32Array) => inverted(x), drifts: true },
    {
      label: 'digits shifted 6 pixels right and 6 down',
      transform: (x: Float32Array) => shifted(x, 6, 6),
      drifts: true,
    },
    { label: 'unseen digits from the same distribution', transform: (x: Float32Array) => x, drifts: false },
  ])('$label: PSI over the threshold is $drifts', ({ transform, drifts }) => {
    const registry = new Registry();
    const log = logger();
    const monitor = mnistMonitor(registry, log);
    const live = transform(digits(600, 100));
    monitor.observe(live, live.length / PIXELS);
    const score = monitor.score()!;
    expect(score.samples).toBe(WINDOW);
    expect(score.summary > 0.25).toBe(drifts);
    expect(log.lines.filter((l) => l.object['event'] === 'drift_alert')).toHaveLength(drifts ? 1 : 0);
  });

  it('exposes per-feature PSI and the summary as Prometheus metrics, and clears the alert when inputs recover', async () => {
    const registry = new Registry();
    const log = logger();
    const monitor = mnistMonitor(registry, log);
    const normal = digits(600, 100);
    monitor.observe(normal.subarray(0, 400 * PIXELS), 400);
    expect(monitor.score()).toBeUndefined();
    expect(await registry.getSingleMetricAsString('fedlearn_serving_drift_score')).not.toMatch(
      /model="mnist"/,
    );

    monitor.observe(inverted(normal), WINDOW);
    const text = await registry.metrics();
    const summary = Number(/fedlearn_serving_drift_score\{model="mnist",version="3"\} (\S+)/.exec(text)![1]);
    expect(summary).toBeCloseTo(monitor.score()!.summary, 10);
    expect(summary).toBeGreaterThan(0.25);
    expect(text).toMatch(/fedlearn_serving_drift_psi\{model="mnist",version="3",feature="0"\} \d/);
    expect(text.match(/^fedlearn_serving_drift_psi\{/gm)).toHaveLength(PIXELS);

    // The window slides: a window's worth of normal digits pushes the inverted ones out.
    monitor.observe(normal, WINDOW);
    expect(monitor.score()!.summary).toBeLessThan(0.25);
    expect(log.lines.map((l) => l.object['event'])).toEqual(['drift_alert', 'drift_cleared']);
    expect(log.lines[0]!.object).toMatchObject({
      model: 'mnist',
      version: '3',
      threshold: 0.25,
      samples: WINDOW,
    });

    monitor.close();
    expect(await registry.metrics()).not.toMatch(/model="mnist"/);
  });

  it('two monitors (two models) report into one registry', async () => {
    const registry = new Registry();
    const a = new DriftMonitor({
      model: 'a',
      version: '1',
      reference,
      registry,
      windowSize: 10,
      logger: logger(),
    });
    const b = new DriftMonitor({
      model: 'b',
      version: '1',
      reference,
      registry,
      windowSize: 10,
      logger: logger(),
    });
    const images = digits(600, 1);
    a.observe(images, 10);
    b.observe(inverted(images), 10);
    const text = await registry.getSingleMetricAsString('fedlearn_serving_drift_score');
    expect(text).toMatch(/model="a"/);
    expect(text).toMatch(/model="b"/);
  });

  it('refuses a malformed reference file with MODEL_FORMAT_INVALID naming the problem', () => {
    const good = JSON.parse(new TextDecoder().decode(serializeDriftReference(reference)));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, edges: [0, 0.5, 0.5, 1] }, /edges must increase strictly/],
      [{ ...good, counts: good.counts.slice(1) }, /counts has 783 rows for 784 features/],
      [{ ...good, counts: [[1, 2], ...good.counts.slice(1)] }, /counts\[0\] does not match its 10 bins/],
      [{ ...good, format: 'other' }, /format/],
      [{ ...good, counts: [[-1, ...good.counts[0].slice(1)], ...good.counts.slice(1)] }, /counts\.0\.0/],
    ];
    for (const [file, message] of cases) {
      expect(() => parseDriftReference(file)).toThrow(message);
    }
    expect(() =>
      readDriftReference(new Map([['drift-reference.json', new TextEncoder().encode('{')]])),
    ).toThrow(/not valid JSON/);
  });
});
