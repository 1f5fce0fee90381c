// Serving throughput and latency: REST (OIP infer, friendly predict), GraphQL, gRPC (unary and
// bidirectional streaming) at concurrency 1 and 32, batching on and off, RSS of the server.
//
//   npm run bench:serving                    (builds, then runs this file)
//   BENCH_SECONDS=3 BENCH_REPEATS=3 BENCH_SOAK_SECONDS=60 node bench/serving.mjs [--profile]
//
// The server is `fedlearn serve` in a child process (what a user runs), over a temporary local
// registry holding the MNIST MLP (784-128-10, the demo's model); this process is the load generator
// (undici keep-alive pool, grpc-js channel), so both share the same 2 cores. Each cell is the median
// of BENCH_REPEATS runs. Prints a table, the JSON document, and writes bench/results/serving.json.
// --profile runs the REST OIP c=32 case again with `node --cpu-prof` on the server and prints where
// its time goes (self time by function).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Pool } from 'undici';
import { createModelLifecycle, resolveLifecycleConfig } from '../packages/registry/dist/index.js';
import { registerBenchMlp } from './bench-model.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,32').split(',').map(Number);
/** Scenario names to run (all by default), e.g. BENCH_KINDS=oip,predict while profiling one path. */
const KINDS = process.env.BENCH_KINDS?.split(',');
const BATCHING_MODES = process.env.BENCH_BATCHING === 'on' ? [true] : [true, false];
const MODEL = 'mnist-mlp';
const FEATURES = 784;
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'packages/cli/bin/fedlearn.js');
const protoDir = join(root, 'packages/serving/proto');

// ---------------------------------------------------------------- the model, registered like the demo's

async function registerMnistMlp(home) {
  await tf.setBackend('cpu');
  const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { home }));
  await registerBenchMlp(lifecycle, {
    modelName: MODEL,
    features: FEATURES,
    hidden: 128,
    seed: 1,
    accuracy: 0.9,
  });
  await lifecycle.close();
}

// ---------------------------------------------------------------- the server: `fedlearn serve` in a child

function startServer(home, { batching, profileDir }) {
  const args = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    cli,
    'serve',
    '--home',
    home,
    '--port',
    '0',
    '--grpc-port',
    '0',
    '--rate-limit',
    '0',
    '--poll',
    '0',
    ...(batching ? [] : ['--no-batching']),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const http = /REST\s+(http:\/\/[\d.]+:\d+)/.exec(out);
      const grpcPort = /gRPC\s+[\d.]+:(\d+)/.exec(out);
      if (http && grpcPort) {
        child.removeAllListeners('exit');
        resolve({ child, url: http[1], grpcAddress: `127.0.0.1:${grpcPort[1]}` });
      }
    });
  });
}

async function stopServer(server) {
  const exited = new Promise((resolve) => server.child.on('exit', resolve));
  server.child.kill('SIGINT');
  await exited;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, fields 14 and 15). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

// ---------------------------------------------------------------- load generators

function seededInstance(seed) {
  let s = seed >>> 0;
  return Array.from({ length: FEATURES }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round((s / 2 ** 32) * 1000) / 1000;
  });
}
const INSTANCES = Array.from({ length: 16 }, (_, i) => seededInstance(i + 1));
const BODIES = {
  oip: INSTANCES.map((x) =>
    JSON.stringify({ inputs: [{ name: 'hidden_input', shape: [1, FEATURES], datatype: 'FP32', data: x }] }),
  ),
  predict: INSTANCES.map((x) => JSON.stringify({ instance: x })),
  graphql: INSTANCES.map((x) =>
    JSON.stringify({
      query: 'query($x: [Float!]!) { predict(model: "mnist-mlp", instance: $x) { version class } }',
      variables: { x },
    }),
  ),
};
const PATHS = {
  oip: `/v2/models/${MODEL}/infer`,
  predict: `/v1/models/${MODEL}/predict`,
  graphql: '/graphql',
};

/** Requests in flight per HTTP connection (undici pipelining); connections = concurrency / this. */
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 1);

/**
 * A keep-alive undici Pool driven through `dispatch` with a bare handler: no Readable stream and no
 * body mixins per response, so the load generator spends as little CPU as it can per request.
 */
function httpClient(url, concurrency) {
  const pool = new Pool(url, {
    connections: Math.ceil(concurrency / PIPELINING),
    pipelining: PIPELINING,
    keepAliveTimeout: 60_000,
  });
  const headers = { 'content-type': 'application/json' };
  const post = (path, body) =>
    new Promise((resolve, reject) => {
      let status = 0;
      const chunks = [];
      pool.dispatch(
        { method: 'POST', path, headers, body },
        {
          onRequestStart() {},
          onResponseStart(_controller, statusCode) {
            status = statusCode;
          },
          onResponseData(_controller, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            resolve({
              status,
              text: chunks.length === 1 ? chunks[0].latin1Slice() : Buffer.concat(chunks).latin1Slice(),
            });
          },
          onResponseError(_controller, error) {
            reject(error);
          },
        },
      );
    });
  return {
    async call(kind, i) {
      const { status, text } = await post(PATHS[kind], BODIES[kind][i % BODIES[kind].length]);
      if (status !== 200 || text.includes('"errors"'))
        throw new Error(`${kind} ${status} ${text.slice(0, 200)}`);
    },
    close: () => pool.close(),
  };
}

function grpcClient(address) {
  const definition = loadSync(['grpc_predict_v2.proto', 'model_stream_infer.proto'], {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir],
  });
  const stream = definition['inference.GRPCInferenceStreamExtension'].ModelStreamInfer;
  const service = {
    ...definition['inference.GRPCInferenceService'],
    ModelStreamInfer: { ...stream, path: '/inference.GRPCInferenceService/ModelStreamInfer' },
  };
  const Client = grpc.makeGenericClientConstructor(service, 'GRPCInferenceService');
  const client = new Client(address, grpc.credentials.createInsecure());
  // raw_input_contents (little-endian bytes), as Triton's and KServe's clients send tensors by default.
  const requests = INSTANCES.map((x) => ({
    model_name: MODEL,
    inputs: [{ name: 'hidden_input', datatype: 'FP32', shape: [1, FEATURES] }],
    raw_input_contents: [Buffer.from(Float32Array.from(x).buffer)],
  }));
  const streams = [];
  return {
    unary: (i) =>
      new Promise((resolve, reject) =>
        client.ModelInfer(requests[i % requests.length], (e, r) => (e ? reject(e) : resolve(r))),
      ),
    /** One bidirectional stream per worker; each request waits for its answer (in-order per stream). */
    openStream() {
      const call = client.ModelStreamInfer();
      const waiting = [];
      call.on('data', (m) => {
        const w = waiting.shift();
        if (m.error_message) w.reject(new Error(m.error_message));
        else if (m.infer_response.raw_output_contents.length !== 1) w.reject(new Error('no raw output'));
        else w.resolve(m);
      });
      call.on('error', (e) => {
        for (const w of waiting.splice(0)) w.reject(e);
      });
      streams.push(call);
      return (i) =>
        new Promise((resolve, reject) => {
          waiting.push({ resolve, reject });
          call.write(requests[i % requests.length]);
        });
    },
    close() {
      for (const s of streams) s.end();
      client.close();
    },
  };
}

/** Makes one load worker (a function sending request i) of a scenario kind. */
function workerMaker(kind, http, g) {
  if (kind === 'grpc-unary') return () => g.unary;
  if (kind === 'grpc-stream') return () => g.openStream();
  return () => (i) => http.call(kind, i);
}

/**
 * Runs `concurrency` workers for SECONDS; returns predictions/s, latency percentiles (ms), and the CPU
 * time per prediction of the server (`serverPid`) and of this load generator, in microseconds: CPU
 * time is what a loaded machine measures fairly, wall-clock throughput is not.
 */
async function measure(makeWorker, concurrency, seconds = SECONDS, serverPid = undefined) {
  const latencies = [];
  const serverCpuStart = serverPid ? cpuSeconds(serverPid) : 0;
  const clientCpuStart = process.cpuUsage();
  let errors = 0;
  let firstError;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const call = makeWorker(w);
      let i = w;
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await call(i++);
          latencies.push(performance.now() - t);
        } catch (e) {
          errors++;
          firstError ??= String(e).slice(0, 200);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuStart);
  const done = Math.max(1, latencies.length);
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? null;
  return {
    throughput: latencies.length / elapsed,
    p50: pct(50),
    p99: pct(99),
    serverCpuUsPerPrediction: serverPid ? ((cpuSeconds(serverPid) - serverCpuStart) * 1e6) / done : null,
    loadGeneratorCpuUsPerPrediction: (clientCpu.user + clientCpu.system) / done,
    loadGeneratorCpuPercent: ((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function scenario(name, makeWorker, concurrency, serverPid) {
  await measure(makeWorker, concurrency, Math.min(2, SECONDS)); // warm-up: JIT, connections
  const runs = [];
  for (let r = 0; r < REPEATS; r++) runs.push(await measure(makeWorker, concurrency, SECONDS, serverPid));
  return {
    name,
    concurrency,
    throughput: median(runs.map((r) => r.throughput)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    serverCpuUsPerPrediction: median(runs.map((r) => r.serverCpuUsPerPrediction)),
    loadGeneratorCpuUsPerPrediction: median(runs.map((r) => r.loadGeneratorCpuUsPerPrediction)),
    loadGeneratorCpuPercent: median(runs.map((r) => r.loadGeneratorCpuPercent)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    ...(runs.find((r) => r.firstError) ? { firstError: runs.find((r) => r.firstError).firstError } : {}),
  };
}

// ---------------------------------------------------------------- profile summary

/** A function every request of a kind runs through: samples before the first one are start-up. */
const FIRST_REQUEST_FRAME = {
  oip: 'flattenNumbers',
  predict: 'flattenNumbers',
  graphql: 'predictRows',
  'grpc-unary': 'decodeInferRequest',
  'grpc-stream': 'decodeInferRequest',
};

function summariseProfile(dir, kind) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inRequest = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at).callFrame.functionName === FIRST_REQUEST_FRAME[kind]) return true;
    }
    return false;
  };
  // Steady state only: samples from the first one inside a request on (start-up is not serving).
  const first = profile.samples.findIndex(inRequest);
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    if (i < first) return;
    const n = byId.get(id);
    const f = n.callFrame;
    const where = f.url
      ? f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, 'packages/')
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byPackage = new Map();
  for (const [key, us] of self) {
    const m =
      /(@tensorflow\/[^/]+|fastify|@fastify\/[^/]+|undici|pino|ajv|fast-json-stringify|find-my-way|@grpc\/[^/]+|packages\/[^/]+|mercurius|graphql|node:[a-z_]+)/.exec(
        key,
      );
    const pkg = m
      ? m[1]
      : key.startsWith('(garbage collector)')
        ? 'GC'
        : key.startsWith('(idle)')
          ? 'idle'
          : key.startsWith('(program)')
            ? 'program'
            : 'node internals / other';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ what: k, percent: Number(((us / total) * 100).toFixed(1)) }));
  return { byPackage: top(byPackage, 12), topFunctions: top(self, 15) };
}

// ---------------------------------------------------------------- main

async function main() {
  const home = mkdtempSync(join(os.tmpdir(), 'fedlearn-bench-serving-'));
  const results = {
    config: {
      seconds: SECONDS,
      repeats: REPEATS,
      soakSeconds: SOAK_SECONDS,
      cpus: os.cpus().length,
      node: process.version,
      loadAverage: os.loadavg(),
    },
    scenarios: [],
  };
  try {
    await registerMnistMlp(home);
    for (const batching of BATCHING_MODES) {
      const server = await startServer(home, { batching });
      const rssStart = rssMb(server.child.pid);
      const g = grpcClient(server.grpcAddress);
      const kinds = (
        batching
          ? ['oip', 'predict', 'graphql', 'grpc-unary', 'grpc-stream']
          : ['oip', 'predict', 'grpc-unary']
      ).filter((k) => !KINDS || KINDS.includes(k));
      for (const c of batching ? CONCURRENCY : [32]) {
        const http = httpClient(server.url, c);
        for (const kind of kinds) {
          const row = await scenario(kind, workerMaker(kind, http, g), c, server.child.pid);
          row.batching = batching;
          results.scenarios.push(row);
          process.stderr.write(
            `${kind} c=${c} batching=${batching}: ${row.throughput.toFixed(0)}/s p50 ${row.p50?.toFixed(2)} p99 ${row.p99?.toFixed(2)} ms server ${row.serverCpuUsPerPrediction?.toFixed(0)} us/pred load generator ${row.loadGeneratorCpuUsPerPrediction.toFixed(0)} us/pred errors ${row.errors}\n`,
          );
        }
        await http.close();
      }
      if (batching && SOAK_SECONDS > 0) {
        // RSS over a long run at c=32 on REST OIP: sampled every second after a warm-up.
        const http = httpClient(server.url, 32);
        await measure(() => (i) => http.call('oip', i), 32, 5);
        const samples = [];
        const timer = setInterval(() => samples.push(rssMb(server.child.pid)), 1000);
        const soak = await measure(() => (i) => http.call('oip', i), 32, SOAK_SECONDS);
        clearInterval(timer);
        await http.close();
        const third = Math.max(1, Math.floor(samples.length / 3));
        // Least-squares slope of RSS over the last two thirds (after the heap has grown to its working
        // size), in MB per minute: flat is ~0; a leak shows as a steady positive slope.
        const tail = samples.slice(third);
        const meanT = (tail.length - 1) / 2;
        const meanR = tail.reduce((a, b) => a + b, 0) / tail.length;
        let num = 0;
        let den = 0;
        tail.forEach((r, t) => {
          num += (t - meanT) * (r - meanR);
          den += (t - meanT) ** 2;
        });
        results.soak = {
          seconds: SOAK_SECONDS,
          throughput: soak.throughput,
          errors: soak.errors,
          rssMbAtStart: rssStart,
          rssMbFirstThirdMedian: median(samples.slice(0, third)),
          rssMbLastThirdMedian: median(samples.slice(-third)),
          rssMbMax: Math.max(...samples),
          rssMbPerMinuteSlope: den > 0 ? (num / den) * 60 : null,
        };
      }
      results[batching ? 'rssBatching' : 'rssNoBatching'] = {
        beforeMb: rssStart,
        afterMb: rssMb(server.child.pid),
      };
      g.close();
      await stopServer(server);
    }
    if (process.argv.includes('--profile')) {
      // BENCH_PROFILE_KIND picks the protocol (default REST OIP infer), always c=32 with batching on.
      const kind = process.env.BENCH_PROFILE_KIND ?? 'oip';
      const dir = mkdtempSync(join(os.tmpdir(), 'fedlearn-serving-prof-'));
      const server = await startServer(home, { batching: true, profileDir: dir });
      const http = httpClient(server.url, 32);
      const g = grpcClient(server.grpcAddress);
      const make = workerMaker(kind, http, g);
      await measure(make, 32, 2);
      await measure(make, 32, Math.max(SECONDS, 5));
      await http.close();
      g.close();
      await stopServer(server);
      results.profile = { case: `${kind}, c=32, batching on`, ...summariseProfile(dir, kind) };
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }

  const find = (name, c, batching = true) =>
    results.scenarios.find((r) => r.name === name && r.concurrency === c && r.batching === batching);
  const oip32 = find('oip', 32);
  const oip32off = find('oip', 32, false);
  results.ratios = {
    batchingSpeedupRestOipC32: oip32 && oip32off ? oip32.throughput / oip32off.throughput : null,
    batchingSpeedupPredictC32:
      find('predict', 32) && find('predict', 32, false)
        ? find('predict', 32).throughput / find('predict', 32, false).throughput
        : null,
    grpcUnaryOverRestOipC32:
      find('grpc-unary', 32) && oip32 ? find('grpc-unary', 32).throughput / oip32.throughput : null,
  };
  results.targets = {
    restAtLeast5000PerSecondC32: oip32 ? oip32.throughput >= 5000 : null,
    restP99AtMost20msC32: oip32 ? oip32.p99 <= 20 : null,
    batchingAtLeast2x:
      results.ratios.batchingSpeedupRestOipC32 === null
        ? null
        : results.ratios.batchingSpeedupRestOipC32 >= 2,
    rssFlat: results.soak
      ? results.soak.rssMbLastThirdMedian <= results.soak.rssMbFirstThirdMedian * 1.1
      : null,
  };

  const rows = results.scenarios.map((r) => [
    r.name,
    String(r.concurrency),
    r.batching ? 'on' : 'off',
    r.throughput.toFixed(0),
    r.p50?.toFixed(2) ?? '-',
    r.p99?.toFixed(2) ?? '-',
    r.serverCpuUsPerPrediction?.toFixed(0) ?? '-',
    r.loadGeneratorCpuUsPerPrediction.toFixed(0),
    r.loadGeneratorCpuPercent.toFixed(0),
    String(r.errors),
  ]);
  const header = [
    'protocol',
    'c',
    'batching',
    'pred/s',
    'p50 ms',
    'p99 ms',
    'server cpu us/pred',
    'loadgen cpu us/pred',
    'loadgen cpu %',
    'errors',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log([line(header), ...rows.map(line)].join('\n'));
  if (results.soak)
    console.log(
      `RSS over ${results.soak.seconds} s at c=32: start ${results.soak.rssMbAtStart.toFixed(1)} MB, first third ${results.soak.rssMbFirstThirdMedian.toFixed(1)} MB, last third ${results.soak.rssMbLastThirdMedian.toFixed(1)} MB, max ${results.soak.rssMbMax.toFixed(1)} MB, slope ${results.soak.rssMbPerMinuteSlope?.toFixed(2)} MB/min`,
    );
  console.log(JSON.stringify(results, null, 2));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/serving.json'), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
