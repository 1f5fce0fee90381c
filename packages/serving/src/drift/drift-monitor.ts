import { FedlearnError } from '@fedlearn/core';
import { Gauge, type Registry } from 'prom-client';
import { binIndex, type DriftReference } from './drift-reference.js';
import { populationStabilityIndex } from './psi.js';

export interface DriftMonitorOptions {
  model: string;
  version: string;
  reference: DriftReference;
  /** Metrics are registered here (the serving `/metrics` registry). */
  registry: Registry;
  /** Live rows kept in the sliding window. Default 1000. */
  windowSize?: number;
  /** Rows the window needs before PSI is reported. Default windowSize / 2. */
  minSamples?: number;
  /** Summary PSI above which the alert line is logged. Default 0.25 (a significant shift). */
  threshold?: number;
  /** Rows between evaluations of the alert. Default 100. */
  evaluateEvery?: number;
  /** Where the alert line goes (a pino logger fits). */
  logger: { warn(object: object, message: string): void; info(object: object, message: string): void };
}

export interface DriftScore {
  /** Mean PSI over features: the summary score. */
  summary: number;
  max: number;
  perFeature: Float64Array;
  samples: number;
}

/**
 * A sliding window of live inputs compared bin by bin with the training data's histograms. The window's
 * counts are kept incrementally (the oldest row's bins are subtracted as a new one arrives), so
 * observing a row costs O(features) and a score O(features × bins).
 *
 * @example
 * const drift = new DriftMonitor({ model, version, reference, registry, logger });
 * drift.observe(rows, n); // on every served request
 */
export class DriftMonitor {
  private readonly features: number;
  private readonly bins: number[];
  private readonly offsets: number[];
  private readonly windowCounts: Float64Array;
  private readonly window: Uint16Array;
  private readonly windowSize: number;
  private readonly minSamples: number;
  private readonly threshold: number;
  private readonly evaluateEvery: number;
  private next = 0;
  private filled = 0;
  private sinceEvaluation = 0;
  private alerting = false;
  readonly labels: { model: string; version: string };
  readonly featureNames: string[];

  constructor(private readonly options: DriftMonitorOptions) {
    const { reference } = options;
    this.features = reference.features;
    this.bins = reference.edges.map((e) => e.length - 1);
    if (this.bins.some((b) => b > 65_535))
      throw new FedlearnError('INVALID_CONFIG', 'at most 65535 bins per feature');
    this.offsets = [];
    let total = 0;
    for (const b of this.bins) {
      this.offsets.push(total);
      total += b;
    }
    this.windowCounts = new Float64Array(total);
    this.windowSize = options.windowSize ?? 1000;
    this.window = new Uint16Array(this.windowSize * this.features);
    this.minSamples = options.minSamples ?? Math.ceil(this.windowSize / 2);
    this.threshold = options.threshold ?? 0.25;
    this.evaluateEvery = options.evaluateEvery ?? 100;

    this.labels = { model: options.model, version: options.version };
    this.featureNames = reference.featureNames ?? Array.from({ length: this.features }, (_, f) => String(f));
    driftGauges(options.registry).add(this);
  }

  /** Adds `rows` live examples (row-major, `features` values each) to the window. */
  observe(data: Float32Array, rows: number): void {
    const { edges } = this.options.reference;
    for (let r = 0; r < rows; r += 1) {
      const slot = this.next * this.features;
      for (let f = 0; f < this.features; f += 1) {
        const offset = this.offsets[f]!;
        if (this.filled === this.windowSize) this.windowCounts[offset + this.window[slot + f]!]! -= 1;
        const bin = binIndex(edges[f]!, data[r * this.features + f]!);
        this.window[slot + f] = bin;
        this.windowCounts[offset + bin]! += 1;
      }
      this.next = (this.next + 1) % this.windowSize;
      if (this.filled < this.windowSize) this.filled += 1;
    }
    this.sinceEvaluation += rows;
    if (this.sinceEvaluation >= this.evaluateEvery) {
      this.sinceEvaluation = 0;
      this.evaluate();
    }
  }

  /** PSI per feature and the summary, or undefined while the window holds fewer than minSamples rows. */
  score(): DriftScore | undefined {
    if (this.filled < this.minSamples) return undefined;
    const perFeature = new Float64Array(this.features);
    let sum = 0;
    let max = 0;
    for (let f = 0; f < this.features; f += 1) {
      const offset = this.offsets[f]!;
      const live = this.windowCounts.subarray(offset, offset + this.bins[f]!);
      const psi = populationStabilityIndex(this.options.reference.counts[f]!, live);
      perFeature[f] = psi;
      sum += psi;
      max = Math.max(max, psi);
    }
    return { summary: sum / this.features, max, perFeature, samples: this.filled };
  }

  /** Logs one alert line when the summary crosses the threshold, and one when it falls back under. */
  evaluate(): DriftScore | undefined {
    const score = this.score();
    if (!score) return undefined;
    const context = {
      model: this.options.model,
      version: this.options.version,
      psi: Number(score.summary.toFixed(4)),
      maxFeaturePsi: Number(score.max.toFixed(4)),
      threshold: this.threshold,
      samples: score.samples,
    };
    if (score.summary > this.threshold && !this.alerting) {
      this.alerting = true;
      this.options.logger.warn({ ...context, event: 'drift_alert' }, 'input drift: PSI over the threshold');
    } else if (score.summary <= this.threshold && this.alerting) {
      this.alerting = false;
      this.options.logger.info(
        { ...context, event: 'drift_cleared' },
        'input drift back under the threshold',
      );
    }
    return score;
  }

  /** Stops reporting this monitor's metrics (when its model version is swapped out). */
  close(): void {
    driftGauges(this.options.registry).delete(this);
  }
}

/** The monitors reporting into each registry: one pair of gauges per registry, however many models. */
const monitorsByRegistry = new WeakMap<Registry, Set<DriftMonitor>>();

function driftGauges(registry: Registry): Set<DriftMonitor> {
  let monitors = monitorsByRegistry.get(registry);
  if (monitors) return monitors;
  const live = new Set<DriftMonitor>();
  monitors = live;
  monitorsByRegistry.set(registry, live);
  new Gauge({
    name: 'fedlearn_serving_drift_psi',
    help: 'Population stability index of each input feature: live window against the training histograms',
    labelNames: ['model', 'version', 'feature'],
    registers: [registry],
    collect() {
      this.reset();
      for (const monitor of live) {
        const score = monitor.score();
        if (!score) continue;
        score.perFeature.forEach((psi, f) => {
          this.set({ ...monitor.labels, feature: monitor.featureNames[f]! }, psi);
        });
      }
    },
  });
  new Gauge({
    name: 'fedlearn_serving_drift_score',
    help: 'Mean population stability index over input features (alert above the threshold)',
    labelNames: ['model', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const monitor of live) {
        const score = monitor.score();
        if (score) this.set(monitor.labels, score.summary);
      }
    },
  });
  return live;
}
