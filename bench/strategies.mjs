// Aggregation strategies vs straightforward JS implementations of the same definitions.
//
//   npm run bench:strategies            (builds, then runs this file)
//   node bench/strategies.mjs           (needs packages/core/dist)
//   node bench/strategies.mjs --repeats 5 --only median,krum
//
// Each (strategy, implementation, N, D) runs in its own child process, so its peak RSS and external
// (ArrayBuffer + wasm memory) high-water mark are its own. A round = every update handled as it
// arrives (fold, or copy into the buffer) + computing the model. Throughput = N·D·4 bytes / round
// time. Prints a table, prints the JSON document and writes it to bench/results/strategies.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as core from '../packages/core/dist/index.js';
import { checksum, median } from './stats.mjs';

const STRATEGIES = ['fedavg', 'fedadam', 'median', 'trimmedmean', 'krum', 'multikrum', 'bulyan'];
const CLIENTS = [10, 100];
const LENGTHS = [100_000, 1_000_000];
const IMPLEMENTATIONS = ['fedlearn', 'naive'];
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const REPEATS = Number(flag('--repeats') ?? 3);
const WARMUP = 1;
const POOL = 8;
const SEED = 20261201;
const MB = 1024 * 1024;
const TRIM = 0.1;
/** f for Krum, Multi-Krum and Bulyan: the most Bulyan allows (n ≥ 4f + 3). */
const byzantineFor = (n) => Math.floor((n - 3) / 4);

if (process.argv[2] === '--child') {
  const [strategy, impl, n, d] = process.argv.slice(3);
  process.stdout.write(`${JSON.stringify(runChild(strategy, impl, Number(n), Number(d)))}\n`);
} else {
  runParent();
}

// ---------------------------------------------------------------- child: one configuration

function runChild(name, impl, n, d) {
  const rng = core.createRng(SEED);
  const pool = Array.from({ length: POOL }, () => Float32Array.from({ length: d }, () => rng.normal()));
  const global = new Float32Array(d);
  const round = impl === 'naive' ? naiveRound(name, n) : fedlearnRound(name, n);
  globalThis.gc();
  const baseline = process.memoryUsage();
  const high = { external: baseline.external };
  const sample = () => {
    high.external = Math.max(high.external, process.memoryUsage().external);
  };
  // The naive baselines take minutes per round at N·D = 1e8: one unwarmed round there (said in `repeats`).
  const heavyNaive = impl === 'naive' && n * d >= 1e8;
  const [warmup, repeats] = heavyNaive ? [0, 1] : [WARMUP, REPEATS];
  const runs = [];
  for (let r = 0; r < warmup + repeats; r++) {
    globalThis.gc();
    runs.push(round(pool, global, sample));
  }
  const measured = runs.slice(warmup);
  const totalMs = median(measured.map((x) => x.arrivalMs + x.modelMs));
  const maxRss = process.resourceUsage().maxRSS * 1024;
  return {
    strategy: name,
    implementation: impl,
    clients: n,
    length: d,
    repeats,
    kernel: measured[0].kernel,
    arrivalMs: median(measured.map((x) => x.arrivalMs)),
    modelMs: median(measured.map((x) => x.modelMs)),
    totalMs,
    GBps: (n * d * 4) / 1e9 / (totalMs / 1e3),
    memory: {
      baselineRssMB: baseline.rss / MB,
      peakRssMB: maxRss / MB,
      rssGrowthMB: (maxRss - baseline.rss) / MB,
      externalGrowthMB: (high.external - baseline.external) / MB,
    },
    checksum: measured[0].checksum,
  };
}

function fedlearnStrategy(name, n) {
  const f = byzantineFor(n);
  const common = { minFitClients: n };
  switch (name) {
    case 'fedavg':
      return new core.FedAvg(common);
    case 'fedadam':
      return new core.FedAdam(common);
    case 'median':
      return new core.CoordinateMedian(common);
    case 'trimmedmean':
      return new core.TrimmedMean({ ...common, trimFraction: TRIM });
    case 'krum':
      return new core.Krum({ ...common, byzantine: f });
    case 'multikrum':
      return new core.MultiKrum({ ...common, byzantine: f });
    case 'bulyan':
      return new core.Bulyan({ ...common, byzantine: f });
  }
  throw new Error(`unknown strategy ${name}`);
}

/** One strategy object for the whole child, as a coordinator keeps one per job (buffers reused). */
function fedlearnRound(name, n) {
  const strategy = fedlearnStrategy(name, n);
  return (pool, global, sample) => {
    let arrivalMs = 0;
    const t0 = performance.now();
    const round = strategy.beginRound(1, global);
    for (let k = 0; k < n; k++) {
      round.add({
        clientId: `c${String(k).padStart(3, '0')}`,
        numExamples: 1,
        params: pool[k % POOL],
        metrics: {},
      });
      sample();
    }
    arrivalMs = performance.now() - t0;
    const t1 = performance.now();
    const { params } = round.finish();
    const modelMs = performance.now() - t1;
    sample();
    round.dispose();
    const kernel = strategy.requiresIndividualUpdates ? new core.UpdateBuffer(1).kernel : 'wasm-simd';
    return { arrivalMs, modelMs, checksum: checksum(params), kernel };
  };
}

// ---------------------------------------------------------------- the straightforward baselines

/** Keeps a copy of every update, then computes the definition with plain loops and Array sorts. */
function naiveRound(name, n) {
  const f = byzantineFor(n);
  let m;
  let v;
  return (pool, global, sample) => {
    const kept = [];
    const t0 = performance.now();
    for (let k = 0; k < n; k++) {
      kept.push(pool[k % POOL].slice());
      sample();
    }
    const arrivalMs = performance.now() - t0;
    const t1 = performance.now();
    let model;
    if (name === 'fedavg' || name === 'fedadam') {
      const mean = average(kept, kept.keys());
      if (name === 'fedavg') model = mean;
      else {
        m ??= new Float64Array(global.length);
        v ??= new Float64Array(global.length).fill(1e-6);
        model = new Float32Array(global.length);
        for (let i = 0; i < global.length; i++) {
          const delta = mean[i] - global[i];
          m[i] = 0.9 * m[i] + 0.1 * delta;
          v[i] = 0.99 * v[i] + 0.01 * delta * delta;
          model[i] = global[i] + (0.01 * m[i]) / (Math.sqrt(v[i]) + 1e-3);
        }
      }
    } else if (name === 'median' || name === 'trimmedmean') {
      const b = name === 'median' ? -1 : Math.floor(TRIM * n);
      model = perCoordinate(kept, (column) => {
        column.sort();
        if (b < 0) return n % 2 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
        let s = 0;
        for (let i = b; i < n - b; i++) s += column[i];
        return s / (n - 2 * b);
      });
    } else {
      const distances = kept.map((a) => kept.map((b) => sqdist(a, b)));
      const order = (pool) => {
        const k = Math.max(1, Math.min(pool.length - 1, pool.length - f - 2));
        const score = (i) =>
          pool
            .filter((j) => j !== i)
            .map((j) => distances[i][j])
            .sort((x, y) => x - y)
            .slice(0, k)
            .reduce((x, y) => x + y, 0);
        const scores = new Map(pool.map((i) => [i, score(i)]));
        return [...pool].sort((a, b) => scores.get(a) - scores.get(b) || a - b);
      };
      const all = [...kept.keys()];
      if (name === 'krum') model = kept[order(all)[0]].slice();
      else if (name === 'multikrum') model = average(kept, order(all).slice(0, n - f));
      else {
        const selected = [];
        while (selected.length < n - 2 * f) {
          const best = order(all)[0];
          selected.push(best);
          all.splice(all.indexOf(best), 1);
        }
        const beta = selected.length - 2 * f;
        model = perCoordinate(
          selected.map((i) => kept[i]),
          (column) => {
            column.sort();
            const t = column.length;
            const med = t % 2 ? column[(t - 1) / 2] : (column[t / 2 - 1] + column[t / 2]) / 2;
            column.sort((x, y) => Math.abs(x - med) - Math.abs(y - med));
            let s = 0;
            for (let i = 0; i < beta; i++) s += column[i];
            return s / beta;
          },
        );
      }
    }
    const modelMs = performance.now() - t1;
    sample();
    return { arrivalMs, modelMs, checksum: checksum(model), kernel: 'naive' };
  };
}

function average(rows, indices) {
  const list = [...indices];
  const acc = new Float64Array(rows[0].length);
  for (const i of list) for (let j = 0; j < acc.length; j++) acc[j] += rows[i][j];
  return Float32Array.from(acc, (x) => x / list.length);
}

/** `reduce` gets each coordinate's values as a Float64Array (whose sort() is numeric). */
function perCoordinate(rows, reduce) {
  const out = new Float32Array(rows[0].length);
  const column = new Float64Array(rows.length);
  for (let j = 0; j < out.length; j++) {
    for (let i = 0; i < rows.length; i++) column[i] = rows[i][j];
    out[j] = reduce(column);
  }
  return out;
}

function sqdist(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

// ---------------------------------------------------------------- parent: spawn, compare, report

function runParent() {
  const self = fileURLToPath(import.meta.url);
  const started = performance.now();
  const only = flag('--only')?.split(',') ?? STRATEGIES;
  const results = [];
  for (const n of CLIENTS) {
    for (const d of LENGTHS) {
      for (const strategy of only) {
        for (const impl of IMPLEMENTATIONS) {
          const child = spawnSync(
            process.execPath,
            [
              '--expose-gc',
              '--max-old-space-size=4096',
              self,
              '--child',
              strategy,
              impl,
              String(n),
              String(d),
            ],
            { encoding: 'utf8', maxBuffer: 16 * MB },
          );
          if (child.status !== 0) {
            process.stderr.write(child.stderr);
            throw new Error(`child ${strategy}/${impl} N=${n} D=${d} exited with ${child.status}`);
          }
          const result = JSON.parse(child.stdout.trim().split('\n').at(-1));
          results.push(result);
          process.stderr.write(`${strategy} ${impl} N=${n} D=${d}: ${result.totalMs.toFixed(0)} ms\n`);
        }
      }
    }
  }
  for (const r of results) {
    const naive = results.find(
      (x) =>
        x.implementation === 'naive' &&
        x.strategy === r.strategy &&
        x.clients === r.clients &&
        x.length === r.length,
    );
    r.vsNaive = {
      speedup: naive.totalMs / r.totalMs,
      rssGrowthRatio: r.memory.rssGrowthMB / naive.memory.rssGrowthMB,
      sameModel: Math.abs(r.checksum - naive.checksum) <= 1e-4 * Math.max(1, Math.abs(naive.checksum)),
    };
  }
  const doc = {
    benchmark: 'strategies',
    description:
      'fedlearn strategies (wasm SIMD kernels) vs straightforward JS implementations of the same definitions, measured in the same run; medians over repeats',
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    repeats: REPEATS,
    settings: {
      trimFraction: TRIM,
      byzantine: 'floor((N - 3) / 4): 1 at N=10, 24 at N=100',
      examplesPerClient: 1,
    },
    definitions: {
      totalMs: 'one round: all N updates handled as they arrive (fold or copy) + computing the model',
      GBps: 'update bytes (N*D*4) / totalMs',
      memory:
        'per child: peak RSS (getrusage maxRSS) and sampled external high-water, minus the baseline before the first round',
    },
    targets: { medianGBps: '>= 1', krumN100D1MSeconds: '< 2' },
    wallSeconds: (performance.now() - started) / 1e3,
    results,
  };
  printTable(results);
  const json = JSON.stringify(doc, null, 2);
  console.log(json);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}strategies.json`, `${json}\n`);
  console.log(`\nwrote bench/results/strategies.json (${doc.wallSeconds.toFixed(1)} s)`);
}

function printTable(results) {
  const head = [
    'strategy',
    'impl',
    'N',
    'D',
    'round ms',
    'GB/s',
    'x naive',
    'RSS peak MB',
    'RSS +MB',
    'same',
  ];
  const rows = results.map((r) => [
    r.strategy,
    r.implementation === 'naive' ? 'naive' : r.kernel,
    String(r.clients),
    r.length >= 1e6 ? `${r.length / 1e6}M` : `${r.length / 1e3}k`,
    r.totalMs.toFixed(1),
    r.GBps.toFixed(2),
    r.vsNaive.speedup.toFixed(2),
    r.memory.peakRssMB.toFixed(0),
    r.memory.rssGrowthMB.toFixed(0),
    r.vsNaive.sameModel ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells) =>
    cells.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
}
