import { FederatedClient, TfjsTrainer } from '@fedlearn/client-node';
import { flattenParams, type ModelParams, type Trainer } from '@fedlearn/core';
import type { Page } from 'playwright-core';
import { clientPartition } from '../src/mnist.js';
import { buildMnistMlp, toTensors } from '../src/mnist-model.js';

export { launchChromium } from '../../client-browser/test/chromium.js';

/** One client's update in one round, as trained: δ = trained − global, with its weight. */
export interface RecordedFit {
  round: number;
  numExamples: number;
  global?: Float32Array;
  delta: Float32Array;
}

/** A Node client of the demo's MNIST model on partition `index`, recording every update it makes. */
export function recordingNodeClient(options: {
  index: number;
  partitions: number;
  seed: number;
  serverUrl: string;
  token: string;
}) {
  const { train } = clientPartition(options.index, options.partitions, { kind: 'iid' }, options.seed);
  const inner = new TfjsTrainer({ model: buildMnistMlp(options.seed), train: toTensors(train) });
  const fits: RecordedFit[] = [];
  let round = 0;
  const trainer: Trainer = {
    numExamples: inner.numExamples,
    numEvalExamples: 0,
    backend: inner.backend,
    dataFingerprint: inner.dataFingerprint,
    specs: () => inner.specs(),
    getParameters: () => inner.getParameters(),
    evaluate: (p, c) => inner.evaluate(p, c),
    async fit(global: ModelParams, config) {
      const outcome = await inner.fit(global, config);
      const base = flattenParams(global);
      const delta = flattenParams(outcome.params).map((v, i) => v - (base[i] as number));
      fits.push({ round, numExamples: outcome.numExamples, global: base, delta });
      return outcome;
    },
  };
  const client = new FederatedClient({
    serverUrl: options.serverUrl,
    token: options.token,
    clientId: `node-${options.index + 1}`,
    trainer,
    handleSignals: false,
    onEvent: (event) => {
      if (event.type === 'fit_start') round = event.round;
    },
  });
  return { client, fits };
}

/** The updates a demo page recorded (`#record=1`). */
export async function pageFits(page: Page): Promise<RecordedFit[]> {
  const fits = await page.evaluate(
    () =>
      (
        globalThis as unknown as {
          fedlearnDemo: { fits: { round: number; numExamples: number; delta: number[] }[] };
        }
      ).fedlearnDemo.fits,
  );
  return fits.map((f) => ({ round: f.round, numExamples: f.numExamples, delta: Float32Array.from(f.delta) }));
}

/** What FedAvg computes in the clear from the same updates: global + Σ w·δ / Σ w. */
export function plainAggregate(global: Float32Array, fits: readonly RecordedFit[]): Float64Array {
  const total = fits.reduce((n, f) => n + f.numExamples, 0);
  const out = Float64Array.from(global);
  for (const fit of fits) {
    for (let i = 0; i < out.length; i++) out[i]! += (fit.numExamples * (fit.delta[i] as number)) / total;
  }
  return out;
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}
