// Streaming FedAvg accumulator vs a naive keep-everything average.
//
//   npm run bench:aggregate            (builds, then runs this file)
//   node bench/aggregate.mjs           (needs packages/core/dist)
//
// Each (mode, N, D) configuration runs in its own child process, so peak RSS and the external-memory
// high-water mark (ArrayBuffers + wasm memories) belong to that configuration alone. Prints a table,
// prints the JSON document and writes it to bench/results/aggregate.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRng, createWeightedSum } from '../packages/core/dist/index.js';
import { checksum, median } from './stats.mjs';

const CLIENTS = [10, 100];
const LENGTHS = [100_000, 1_000_000];
const MODES = ['naive', 'js', 'wasm-simd'];
const REPEATS = 7;
const WARMUP = 2;
// Arriving updates cycle through a small pool of distinct buffers, as a decoder reusing its output
// would; it is allocated before the baseline, so it is not counted as growth.
const POOL = 4;
const SEED = 20261126;
const MB = 1024 * 1024;

if (process.argv[2] === '--child') {
  const [mode, n, d] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
  process.stdout.write(`${JSON.stringify(runChild(mode, n, d))}\n`);
} else {
  runParent();
}

// ---------------------------------------------------------------- child: one configuration

function runChild(mode, n, d) {
  const rng = createRng(SEED);
  const pool = Array.from({ length: POOL }, () => {
    const update = new Float32Array(d);
    for (let i = 0; i < d; i++) update[i] = rng.next() - 0.5;
    return update;
  });
  const weights = Array.from({ length: n }, () => 1 + rng.int(1000));
  const round = mode === 'naive' ? naiveRound : streamingRound(mode);

  globalThis.gc();
  const baseline = process.memoryUsage();
  const high = { rss: baseline.rss, external: baseline.external };
  const sample = () => {
    const now = process.memoryUsage();
    high.rss = Math.max(high.rss, now.rss);
    high.external = Math.max(high.external, now.external);
  };

  // Warm-up rounds (JIT tiers, creating the accumulator) have the measured rounds' shape, so the same
  // peak; a full GC before every round keeps one round's garbage out of the next one's peak.
  const rounds = [];
  for (let r = 0; r < WARMUP + REPEATS; r++) {
    globalThis.gc();
    rounds.push(round(pool, weights, sample));
  }
  const runs = rounds.slice(WARMUP);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const bytes = n * d * 4;
  const arrivalMs = median(runs.map((x) => x.arrivalMs));
  const modelMs = median(runs.map((x) => x.modelMs));
  const totalMs = median(runs.map((x) => x.arrivalMs + x.modelMs));
  return {
    mode,
    clients: n,
    length: d,
    repeats: REPEATS,
    updateBytes: bytes,
    kernel: runs[0].kernel,
    // streaming only: creating the accumulator once (first warm-up round) and reset() between rounds
    createMs: mode === 'naive' ? null : rounds[0].createMs,
    resetMs: mode === 'naive' ? null : median(runs.map((x) => x.resetMs)),
    // every update handled as it arrives (fold, or copy-and-keep) plus computing the model at the end
    totalMs,
    arrivalMs,
    modelMs,
    foldGBps: bytes / 1e9 / (median(runs.map((x) => x.foldMs)) / 1e3),
    endToEndGBps: bytes / 1e9 / (totalMs / 1e3),
    lastUpdateToModelMs: median(runs.map((x) => x.lastToModelMs)),
    memory: {
      baselineRssMB: baseline.rss / MB,
      peakRssMB: maxRss / MB,
      rssGrowthMB: (maxRss - baseline.rss) / MB,
      baselineExternalMB: baseline.external / MB,
      peakExternalMB: high.external / MB,
      externalGrowthMB: (high.external - baseline.external) / MB,
    },
    checksum: runs[0].checksum,
  };
}

/**
 * Folds each update into a WeightedSum as it arrives; the model is one mean() away. One accumulator
 * serves every round (reset() in between), as a coordinator keeps one per job: a fresh one pays the
 * page faults of its first touch on its first add(), which reuse moves out of the arrival path.
 */
function streamingRound(kernel) {
  let sum;
  return (pool, weights, sample) => {
    let createMs = 0;
    if (sum === undefined) {
      const t0 = performance.now();
      sum = createWeightedSum(pool[0].length, { kernel });
      createMs = performance.now() - t0;
    }
    const t0 = performance.now();
    sum.reset();
    const resetMs = performance.now() - t0;
    let arrivalMs = 0;
    let lastFoldMs = 0;
    for (let k = 0; k < weights.length; k++) {
      const t0 = performance.now();
      sum.add(pool[k % POOL], weights[k]);
      lastFoldMs = performance.now() - t0;
      arrivalMs += lastFoldMs;
      sample();
    }
    const t1 = performance.now();
    const model = sum.mean();
    const modelMs = performance.now() - t1;
    sample();
    const lastToModelMs = lastFoldMs + modelMs;
    return {
      kernel: sum.kernel,
      createMs,
      resetMs,
      foldMs: arrivalMs,
      arrivalMs,
      modelMs,
      lastToModelMs,
      checksum: checksum(model),
    };
  };
}

/** Keeps a copy of every update, then averages them all in float64 once the last one is in. */
function naiveRound(pool, weights, sample) {
  const kept = [];
  let arrivalMs = 0;
  let lastCopyMs = 0;
  for (let k = 0; k < weights.length; k++) {
    const t0 = performance.now();
    kept.push(pool[k % POOL].slice());
    lastCopyMs = performance.now() - t0;
    arrivalMs += lastCopyMs;
    sample();
  }
  const t0 = performance.now();
  const { model, foldMs } = naiveAverage(kept, weights);
  const modelMs = performance.now() - t0;
  sample();
  return {
    kernel: 'naive',
    foldMs,
    arrivalMs,
    modelMs,
    lastToModelMs: lastCopyMs + modelMs,
    checksum: checksum(model),
  };
}

function naiveAverage(updates, weights) {
  const d = updates[0].length;
  const t0 = performance.now();
  const acc = new Float64Array(d);
  let total = 0;
  for (let k = 0; k < updates.length; k++) {
    const update = updates[k];
    const w = weights[k];
    for (let i = 0; i < d; i++) acc[i] += w * update[i];
    total += w;
  }
  const foldMs = performance.now() - t0;
  const model = new Float32Array(d);
  for (let i = 0; i < d; i++) model[i] = acc[i] / total;
  return { model, foldMs };
}

// ---------------------------------------------------------------- parent: spawn, compare, report

function runParent() {
  const self = fileURLToPath(import.meta.url);
  const started = performance.now();
  const results = [];
  for (const n of CLIENTS) {
    for (const d of LENGTHS) {
      for (const mode of MODES) {
        const child = spawnSync(
          process.execPath,
          ['--expose-gc', self, '--child', mode, String(n), String(d)],
          {
            encoding: 'utf8',
            maxBuffer: 16 * MB,
          },
        );
        if (child.status !== 0) {
          process.stderr.write(child.stderr);
          throw new Error(`child ${mode} N=${n} D=${d} exited with ${child.status}`);
        }
        results.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
      }
    }
  }
  for (const r of results) {
    const naive = results.find((x) => x.mode === 'naive' && x.clients === r.clients && x.length === r.length);
    r.vsNaive = {
      foldSpeedup: r.foldGBps / naive.foldGBps,
      endToEndSpeedup: naive.totalMs / r.totalMs,
      lastUpdateToModelSpeedup: naive.lastUpdateToModelMs / r.lastUpdateToModelMs,
      rssGrowthRatio: r.memory.rssGrowthMB / naive.memory.rssGrowthMB,
      externalGrowthRatio: r.memory.externalGrowthMB / naive.memory.externalGrowthMB,
      sameModel: Math.abs(r.checksum - naive.checksum) <= 1e-9 * Math.max(1, Math.abs(naive.checksum)),
    };
  }
  const doc = {
    benchmark: 'aggregate',
    description:
      'Streaming weighted sum (FedAvg numerator, float64) vs naive keep-all-then-average; medians over repeats',
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    repeats: REPEATS,
    definitions: {
      foldGBps:
        'update bytes (N*D*4) / time folding them in float64 (streaming: all add() calls; naive: the accumulation loop of its final average, copies excluded)',
      endToEndGBps: 'update bytes / (time handling all arrivals + time computing the model)',
      arrivalMs: 'streaming: all add() calls; naive: copying and keeping each update',
      createMs:
        'streaming: createWeightedSum() once per process; rounds then reuse it with reset() (resetMs)',
      modelMs: 'streaming: mean(); naive: the whole float64 average',
      lastUpdateToModelMs: 'streaming: add(last) + mean(); naive: keep(last) + average of all N',
      memory:
        'per child process: peak RSS (getrusage maxRSS) and sampled external (ArrayBuffers + wasm) high-water, each minus the baseline taken before the first round',
    },
    wallSeconds: (performance.now() - started) / 1e3,
    results,
  };
  printTable(results);
  const json = JSON.stringify(doc, null, 2);
  console.log(json);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}aggregate.json`, `${json}\n`);
  console.log(`\nwrote bench/results/aggregate.json (${doc.wallSeconds.toFixed(1)} s)`);
}

function printTable(results) {
  const head = ['N', 'D', 'mode', 'fold GB/s', 'x naive', 'e2e GB/s', 'x naive', 'last->model ms', 'x naive'];
  head.push('RSS peak MB', 'RSS +MB', 'ext +MB');
  const rows = results.map((r) => [
    String(r.clients),
    r.length >= 1e6 ? `${r.length / 1e6}M` : `${r.length / 1e3}k`,
    r.mode,
    r.foldGBps.toFixed(2),
    r.vsNaive.foldSpeedup.toFixed(2),
    r.endToEndGBps.toFixed(2),
    r.vsNaive.endToEndSpeedup.toFixed(2),
    r.lastUpdateToModelMs.toFixed(2),
    r.vsNaive.lastUpdateToModelSpeedup.toFixed(1),
    r.memory.peakRssMB.toFixed(0),
    r.memory.rssGrowthMB.toFixed(1),
    r.memory.externalGrowthMB.toFixed(1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells) =>
    cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
}
