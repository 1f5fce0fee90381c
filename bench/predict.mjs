// Offline batch prediction (`fedlearn predict`): is memory flat in the input size?
//
//   npm run bench:predict            (builds, then runs this file)
//   node bench/predict.mjs           (needs packages/*/dist)
//
// Generates JSONL files of MNIST-shaped rows (784 features) of growing size, then predicts each one in
// its own child process through the real serving core (a 784-64-10 MLP registered in a temporary local
// registry, cpu backend), sampling RSS every 20 ms. Reports the peak RSS above the baseline taken after
// the model is loaded and warm, and rows/s; medians over REPEATS runs. Prints a table and the JSON
// document and writes it to bench/results/predict.json.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROWS = [4_000, 16_000, 64_000];
const FEATURES = 784;
const REPEATS = 3;
const SEED = 20261201;
const MB = 1024 * 1024;

if (process.argv[2] === '--child') {
  process.stdout.write(`${JSON.stringify(await runChild(process.argv[3], process.argv[4]))}\n`);
} else {
  await runParent();
}

async function runChild(input, output) {
  const { registerBenchMlp } = await import('./bench-model.mjs');
  const { createModelLifecycle, resolveLifecycleConfig } = await import('../packages/registry/dist/index.js');
  const { batchPredict, startServingBackend, startServingCore } = await import(
    '../packages/serving/dist/index.js'
  );
  const { default: pino } = await import('pino');
  await startServingBackend('cpu');
  const home = mkdtempSync(join(os.tmpdir(), 'fedlearn-bench-predict-'));
  const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { home }));
  await registerBenchMlp(lifecycle, {
    modelName: 'bench-mlp',
    features: FEATURES,
    hidden: 64,
    seed: SEED,
    accuracy: 0.5,
  });
  const core = await startServingCore({
    source: lifecycle,
    models: ['bench-mlp@champion'],
    logger: pino({ level: 'silent' }),
    pollIntervalMs: 0,
  });

  globalThis.gc();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const summary = await batchPredict(core.service, {
    model: 'bench-mlp',
    inputs: [input],
    output,
    batchSize: 256,
  });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  core.close();
  await lifecycle.close();
  rmSync(home, { recursive: true, force: true });
  return {
    rows: summary.predicted,
    seconds,
    baselineRssMB: baseline / MB,
    peakRssMB: peak / MB,
    growthMB: (peak - baseline) / MB,
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Deterministic pixel-like values in [0, 1] with two decimals (a seeded LCG: content does not matter here). */
async function writeInput(path, rows) {
  const out = createWriteStream(path);
  let state = SEED;
  for (let r = 0; r < rows; r++) {
    const values = new Array(FEATURES);
    for (let i = 0; i < FEATURES; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      values[i] = (state % 101) / 100;
    }
    if (!out.write(`${JSON.stringify({ id: `r${r}`, features: values })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function runParent() {
  const dir = mkdtempSync(join(os.tmpdir(), 'fedlearn-bench-predict-data-'));
  const results = [];
  try {
    for (const rows of ROWS) {
      const input = join(dir, `rows-${rows}.jsonl`);
      await writeInput(input, rows);
      const inputMB = statSync(input).size / MB;
      const runs = [];
      for (let k = 0; k < REPEATS; k++) {
        const child = spawnSync(
          process.execPath,
          ['--expose-gc', fileURLToPath(import.meta.url), '--child', input, join(dir, 'out.jsonl')],
          {
            encoding: 'utf8',
            maxBuffer: 16 * MB,
          },
        );
        if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
        runs.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
      }
      rmSync(input);
      results.push({
        rows,
        inputMB,
        repeats: REPEATS,
        rowsPerSecond: median(runs.map((r) => r.rows / r.seconds)),
        baselineRssMB: median(runs.map((r) => r.baselineRssMB)),
        peakRssMB: median(runs.map((r) => r.peakRssMB)),
        rssGrowthMB: median(runs.map((r) => r.growthMB)),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const doc = {
    bench: 'predict',
    features: FEATURES,
    batchSize: 256,
    node: process.version,
    cpus: os.cpus().length,
    results,
  };
  console.table(
    results.map((r) => ({
      rows: r.rows,
      'input MB': r.inputMB.toFixed(0),
      'rows/s': Math.round(r.rowsPerSecond),
      'baseline RSS MB': r.baselineRssMB.toFixed(0),
      'peak RSS MB': r.peakRssMB.toFixed(0),
      'growth MB': r.rssGrowthMB.toFixed(1),
    })),
  );
  console.log(JSON.stringify(doc, null, 2));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/predict.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);
}
