// Secure aggregation (SecAgg+) costs: client time per stage, server unmasking time, upload size.
//
//   npm run bench:secagg        (builds, then runs this file)
//   node bench/secagg.mjs       (needs packages/core/dist)
//
// For n >= 100 only MEASURED clients run the real client code; the others are stand-ins
// (SecAggStandIn in core: real keys and Shamir shares, so the server does all its real work, but a
// uniformly random vector instead of a masked update, which the server cannot tell apart). Dropped
// clients drop after sharing their keys and before uploading, the costly case for the server: their
// pairwise masks must be rebuilt. k and t come from recommendNeighbourhood(n, dropout rate).
// Two paths on the same seeds in the same run:
//   baseline: the pure-JS ChaCha20 keystream on one thread (server and clients), as before issue 14;
//   native:   OpenSSL's ChaCha20 (node:crypto) for the clients, and for the server a worker pool of
//             os.availableParallelism() threads (KeystreamPool), as a Node coordinator runs it.
// Both give the server Node's native X25519 (KeyObjects cached per key); clients keep the portable one.
// For the issue-8 target configuration the round is also run with the portable X25519 on the server.
// Per stage, the server's time is the sum of its handle()/closeStage() calls at that stage.
// n = 10,000 (d = 100k, 10%) runs the native path only, with its peak memory; its baseline is run
// too unless its estimate exceeds the budget.
//   node bench/secagg.mjs --only=n1000      (rows whose label contains the text, e.g. n10000, d1000000)
// The malicious-server mode (signed keys, consistency check) is run against the semi-honest one on
// the same seeds for MALICIOUS_CONFIGS and reported as extra cost per stage.
//   node bench/secagg.mjs --malicious-only   (just that comparison)
// Prints a table, prints the JSON document and writes it to bench/results/secagg.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  defaultNeighbours,
  defaultThreshold,
  packedLength,
  recommendNeighbourhood,
} from '../packages/core/dist/index.js';
import { nativeKeystream } from '../packages/core/dist/node.js';
import { simulateSecAggRound } from '../packages/core/dist/testing.js';
import { createKeystreamPool, nativeX25519 } from '../packages/server/dist/index.js';

const CLIENTS = [10, 100, 1000];
/** Beyond the grid: 10,000 clients, and client masking at d = 1M with k = 24 (n = 25, complete graph). */
const EXTRA = [
  { n: 10_000, d: 100_000, dropout: 0.1 },
  { n: 25, d: 1_000_000, dropout: 0, hood: { neighbours: 24, threshold: 13 } },
];
const POOL = createKeystreamPool();
const PATHS = {
  baseline: { label: 'pure JS, 1 thread' },
  native: { label: `native ChaCha20, ${POOL.threads} threads`, server: POOL, client: nativeKeystream() },
};
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const LENGTHS = [100_000, 1_000_000];
const DROPOUTS = [0, 0.1, 0.3];
const MEASURED = 3;
const BUDGET_SECONDS = 60;
const CONFIG = { clipRange: 1, quantizationBits: 12, maxWeight: 100 };
// Rough unit costs on this kind of machine, only to decide what to skip.
const AGREE_MS = 0.2;
const KEYSTREAM_BYTES_PER_MS = 300_000;
const TARGET = { n: 1000, d: 100_000, dropout: 0.1 };
const MALICIOUS_CONFIGS = [
  { n: 100, d: 100_000, dropout: 0 },
  { n: 1000, d: 100_000, dropout: 0.1 },
];
const MALICIOUS_ONLY = process.argv.includes('--malicious-only');
// --n=100: only the comparisons at that n.
const ONLY_N = Number(process.argv.find((a) => a.startsWith('--n='))?.slice(4)) || undefined;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function neighbourhood(n, rate) {
  if (rate === 0) {
    const k = defaultNeighbours(n);
    return { neighbours: k, threshold: defaultThreshold(k) };
  }
  return recommendNeighbourhood(n, { dropoutRate: rate });
}

/** Seconds the server would need to rebuild and remove the masks, from the unit costs above. */
function estimateServerSeconds(n, d, rate, k) {
  const dropped = Math.floor(rate * n);
  const pairs = dropped * Math.min(k, n - 1) * (1 - rate);
  const streams = n - dropped + pairs;
  return (pairs * AGREE_MS + (streams * 4 * d) / KEYSTREAM_BYTES_PER_MS) / 1000;
}

const SERVER_STAGES = ['advertise-keys', 'share-keys', 'masked-input', 'consistency', 'unmask'];

function runOnce(n, d, rate, hood, seed, path = PATHS.native, mode = 'semi-honest', nativeX = true) {
  const dropped = Math.floor(rate * n);
  const times = { keys: [], shares: [], masking: [], consistency: [], clientUnmask: [], serverUnmask: 0 };
  const server = Object.fromEntries(SERVER_STAGES.map((s) => [s, 0]));
  let rssAfterServerMb = 0;
  const key = {
    'client:advertise-keys': 'keys',
    'client:share-keys': 'shares',
    'client:masked-input': 'masking',
    'client:consistency': 'consistency',
    'client:unmask': 'clientUnmask',
  };
  const realClients = n <= 10 ? n : MEASURED;
  const measure = (what, clientId, run) => {
    const t0 = performance.now();
    const out = run();
    const ms = performance.now() - t0;
    if (what.startsWith('server:')) {
      server[what.slice(7)] += ms;
      if (what === 'server:unmask') times.serverUnmask += ms;
      rssAfterServerMb = Math.max(rssAfterServerMb, process.memoryUsage.rss() / 2 ** 20);
    } else if (Number(clientId.slice(7)) < realClients) times[key[what]].push(ms);
    return out;
  };
  const sim = simulateSecAggRound({
    n,
    d,
    seed,
    realClients,
    config: { ...CONFIG, ...hood },
    dropouts: { 'masked-input': dropped },
    measure,
    mode,
    ...(nativeX ? { serverX25519: nativeX25519() } : {}),
    ...(path.server ? { serverKeystream: path.server } : {}),
    ...(path.client ? { clientKeystream: path.client } : {}),
  });
  // Stand-ins upload random vectors: their sum fails the range check, the last step of unmasking.
  const standInEnd = realClients < n && sim.error?.code === 'SECAGG_INPUT_OUT_OF_RANGE';
  if (sim.outcome.kind !== 'done' && !standInEnd) throw new Error(`round aborted: ${sim.error?.message}`);
  const exact =
    realClients === n ? sim.result.ringSum.every((v, i) => v === sim.expectedRingSum[i]) : undefined;
  const uploads = [...sim.uploadedBytes]
    .filter(([id]) => Number(id.slice(7)) < realClients)
    .map(([, b]) => b);
  return {
    times,
    server,
    rssAfterServerMb,
    upload: median(uploads),
    params: sim.server.params,
    exact,
    survivors: sim.result?.survivors.length ?? n - dropped,
  };
}

function runConfig(n, d, rate, fixedHood) {
  const hood = fixedHood ?? neighbourhood(n, rate);
  const estimate = estimateServerSeconds(n, d, rate, hood.neighbours);
  const row = { n, d, dropout: rate, neighbours: hood.neighbours, threshold: hood.threshold };
  const isTarget = n === TARGET.n && d === TARGET.d && rate === TARGET.dropout;
  const repeats = isTarget ? 3 : estimate < 3 && n <= 100 ? 3 : 1;
  // Alternating native and baseline runs on the same seeds, so a change in machine load does not
  // favour one path; the baseline is skipped when it would take longer than the budget.
  const rssBeforeMb = process.memoryUsage.rss() / 2 ** 20;
  const skipBaseline = estimate > BUDGET_SECONDS;
  const runs = [];
  const base = [];
  for (let r = 0; r < repeats; r++) {
    runs.push(runOnce(n, d, rate, hood, 1000 + r, PATHS.native));
    if (!skipBaseline) base.push(runOnce(n, d, rate, hood, 1000 + r, PATHS.baseline));
  }
  const portableX = isTarget
    ? runOnce(n, d, rate, hood, 2000, PATHS.native, 'semi-honest', false)
    : undefined;
  const all = (rs, f) => median(rs.flatMap(f));
  const p = runs[0].params;
  const plain = 4 * d;
  const clientMs = (rs) => ({
    keys: all(rs, (r) => r.times.keys),
    shares: all(rs, (r) => r.times.shares),
    masking: all(rs, (r) => r.times.masking),
    unmask: all(rs, (r) => r.times.clientUnmask),
  });
  const serverStages = (rs) =>
    Object.fromEntries(SERVER_STAGES.map((s) => [s, median(rs.map((r) => r.server[s]))]));
  const native = {
    clientMs: clientMs(runs),
    serverUnmaskMs: median(runs.map((r) => r.times.serverUnmask)),
    serverStageMs: serverStages(runs),
  };
  const baseline = skipBaseline
    ? {
        skipped: `estimated ${estimate.toFixed(0)} s > ${BUDGET_SECONDS} s budget for the pure-JS server unmasking`,
      }
    : {
        clientMs: clientMs(base),
        serverUnmaskMs: median(base.map((r) => r.times.serverUnmask)),
        serverStageMs: serverStages(base),
      };
  return {
    ...row,
    ringBits: p.ringBits,
    repeats,
    clients: n <= 10 ? 'all real' : `${MEASURED} real + ${n - MEASURED} stand-ins`,
    native,
    baseline,
    speedup: baseline.serverUnmaskMs ? baseline.serverUnmaskMs / native.serverUnmaskMs : undefined,
    ...(portableX === undefined ? {} : { serverUnmaskMsPortableX25519: portableX.times.serverUnmask }),
    memory: {
      rssBeforeMb,
      peakRssAfterServerCallMb: Math.max(...runs.map((r) => r.rssAfterServerMb)),
      processMaxRssMb: process.resourceUsage().maxRSS / 1024,
    },
    uploadBytes: all(runs, (r) => [r.upload]),
    plainFloat32Bytes: plain,
    uploadRatio: all(runs, (r) => [r.upload]) / plain,
    maskedVectorRatio: packedLength(p.vectorLength, p.ringBits) / plain,
    survivors: runs[0].survivors,
    exact: runs.every((r) => r.exact !== false)
      ? runs[0].exact === undefined
        ? 'n/a (stand-ins)'
        : true
      : false,
  };
}

const fmt = (v, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : String(v));

function printTable(rows) {
  const head = [
    'n',
    'd',
    'drop',
    'k',
    't',
    'b',
    'mask ms base',
    'mask ms native',
    'srv unmask ms base',
    'srv unmask ms native',
    'speedup',
    'srv ms keys/shares/masked/unmask (native)',
    'upload B',
    'vs f32',
    'exact',
  ];
  const lines = rows.map((r) => [
    r.n,
    r.d,
    `${r.dropout * 100}%`,
    r.neighbours,
    r.threshold,
    r.ringBits,
    r.baseline.skipped ? 'skipped' : fmt(r.baseline.clientMs.masking),
    fmt(r.native.clientMs.masking),
    r.baseline.skipped ? 'skipped' : fmt(r.baseline.serverUnmaskMs, 0),
    fmt(r.native.serverUnmaskMs, 0),
    r.speedup === undefined ? '' : `${fmt(r.speedup, 2)}x`,
    ['advertise-keys', 'share-keys', 'masked-input', 'unmask']
      .map((s) => fmt(r.native.serverStageMs[s], 0))
      .join('/'),
    r.uploadBytes,
    fmt(r.uploadRatio, 3),
    String(r.exact),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(line(l));
  for (const r of rows) {
    if (r.baseline.skipped)
      console.log(`baseline skipped n=${r.n} d=${r.d} dropout=${r.dropout * 100}%: ${r.baseline.skipped}`);
    if (r.n >= 10_000)
      console.log(
        `n=${r.n}: k=${r.neighbours} t=${r.threshold}, server ms per stage ${JSON.stringify(r.native.serverStageMs)}, ` +
          `peak RSS after a server call ${fmt(r.memory.peakRssAfterServerCallMb, 0)} MiB (process max ${fmt(r.memory.processMaxRssMb, 0)} MiB, simulated clients included)`,
      );
  }
}

function targets(rows) {
  const find = (n, d, rate) => rows.find((r) => r.n === n && r.d === d && r.dropout === rate);
  const up = find(100, 100_000, 0);
  const check = (row, ms, f = (r) => r.native.serverUnmaskMs) =>
    row
      ? { target: `<= ${ms} ms`, value: f(row), met: f(row) <= ms }
      : { target: `<= ${ms} ms`, value: null, met: null };
  const k24 = rows.find((r) => r.d === 1_000_000 && r.neighbours <= 24);
  return {
    uploadAtN100D100k: {
      target: '<= 1.05x float32',
      value: up?.uploadRatio,
      met: up ? up.uploadRatio <= 1.05 : null,
    },
    serverUnmaskN1000D100kDrop10: check(find(1000, 100_000, 0.1), 2570 * 1.1),
    serverUnmaskN1000D100kDrop30: check(find(1000, 100_000, 0.3), 5000),
    serverUnmaskN100D1MDrop30: check(find(100, 1_000_000, 0.3), 3000),
    clientMaskingD1MK24: check(k24, 100, (r) => r.native.clientMs.masking),
  };
}

/** The same rounds (same seeds) in both modes; the malicious mode's extra cost per stage. */
function compareModes({ n, d, dropout }) {
  const hood = neighbourhood(n, dropout);
  const repeats = n <= 100 ? 3 : 1;
  const stages = ['keys', 'shares', 'masking', 'consistency', 'clientUnmask'];
  const measureMode = (mode) => {
    const runs = Array.from({ length: repeats }, (_, r) =>
      runOnce(n, d, dropout, hood, 3000 + r, PATHS.native, mode),
    );
    const client = Object.fromEntries(stages.map((s) => [s, median(runs.flatMap((r) => r.times[s]))]));
    return {
      clientMs: client,
      serverUnmaskMs: median(runs.map((r) => r.times.serverUnmask)),
      serverStageMs: Object.fromEntries(SERVER_STAGES.map((s) => [s, median(runs.map((r) => r.server[s]))])),
      uploadBytes: median(runs.map((r) => r.upload)),
    };
  };
  const semi = measureMode('semi-honest');
  const mal = measureMode('malicious');
  const extra = Object.fromEntries(
    stages.map((s) => [s, (mal.clientMs[s] || 0) - (Number.isNaN(semi.clientMs[s]) ? 0 : semi.clientMs[s])]),
  );
  return {
    n,
    d,
    dropout,
    neighbours: hood.neighbours,
    threshold: hood.threshold,
    repeats,
    semiHonest: semi,
    malicious: mal,
    extraClientMs: extra,
    extraServerUnmaskMs: mal.serverUnmaskMs - semi.serverUnmaskMs,
    extraServerStageMs: Object.fromEntries(
      SERVER_STAGES.map((s) => [s, (mal.serverStageMs[s] || 0) - (semi.serverStageMs[s] || 0)]),
    ),
    extraUploadBytes: mal.uploadBytes - semi.uploadBytes,
  };
}

function printModes(rows) {
  console.log(
    '| n | d | drop | k / t | extra client ms: keys / shares / mask / consistency / unmask | extra server ms per stage: keys / shares / masked / consistency / unmask | extra server unmask ms | extra upload B |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const e = r.extraClientMs;
    console.log(
      `| ${r.n} | ${r.d} | ${r.dropout * 100}% | ${r.neighbours} / ${r.threshold} | ` +
        `${[e.keys, e.shares, e.masking, e.consistency, e.clientUnmask].map((v) => fmt(v, 2)).join(' / ')} | ` +
        `${SERVER_STAGES.map((s) => fmt(r.extraServerStageMs[s], 1)).join(' / ')} | ` +
        `${fmt(r.extraServerUnmaskMs, 0)} (${fmt(r.semiHonest.serverUnmaskMs, 0)} → ${fmt(r.malicious.serverUnmaskMs, 0)}) | ${r.extraUploadBytes} |`,
    );
  }
}

// Warm the JIT on a small round of each path so the first measured configuration is not penalised.
for (const path of Object.values(PATHS)) {
  simulateSecAggRound({
    n: 10,
    d: 20_000,
    seed: 1,
    config: CONFIG,
    ...(path.server ? { serverKeystream: path.server, clientKeystream: path.client } : {}),
  });
}

const LOAD_AT_START = os.loadavg();
const started = performance.now();
const rows = [];
const grid = CLIENTS.flatMap((n) => LENGTHS.flatMap((d) => DROPOUTS.map((dropout) => ({ n, d, dropout }))));
for (const c of MALICIOUS_ONLY ? [] : [...grid, ...EXTRA]) {
  if (ONLY && !`n${c.n} d${c.d} drop${c.dropout * 100}`.includes(ONLY)) continue;
  const row = runConfig(c.n, c.d, c.dropout, c.hood);
  rows.push(row);
  process.stderr.write(
    `n=${c.n} d=${c.d} dropout=${c.dropout}: server unmask ${fmt(row.native.serverUnmaskMs, 0)} ms native, ` +
      `${row.baseline.skipped ? 'baseline skipped' : `${fmt(row.baseline.serverUnmaskMs, 0)} ms baseline`}\n`,
  );
}
const modes = MALICIOUS_CONFIGS.filter((c) => !ONLY && (ONLY_N === undefined || c.n === ONLY_N)).map((c) => {
  const row = compareModes(c);
  process.stderr.write(
    `malicious vs semi-honest n=${c.n} d=${c.d} dropout=${c.dropout}: ${JSON.stringify(row)}\n`,
  );
  return row;
});
const doc = {
  bench: 'secagg',
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    loadAverageAtStart: LOAD_AT_START,
    loadAverageAtEnd: os.loadavg(),
  },
  paths: Object.fromEntries(Object.entries(PATHS).map(([k, v]) => [k, v.label])),
  config: CONFIG,
  notes: [
    `n >= 100: ${MEASURED} measured real clients, the rest stand-ins (real keys and shares, random ring vectors); the sum is then not checkable (exact = n/a)`,
    'dropped clients drop after sharing keys, before uploading (their pairwise masks must be rebuilt)',
    'server uses native X25519 (node:crypto, cached KeyObjects); serverUnmaskMsPortableX25519 = the native path with the portable X25519 on the server',
    `baseline = pure-JS ChaCha20 on one thread (server and clients); native = OpenSSL ChaCha20, server on a ${POOL.threads}-thread pool`,
    `the baseline is skipped where its estimated server time exceeds ${BUDGET_SECONDS} s`,
    'memory: RSS of the whole process (simulated clients included), sampled after each server call',
    'times are medians over measured clients and repeats; server unmask = the call that closes the unmasking stage',
    'upload = all four client messages, binary as raw attachments plus JSON envelope; plain = 4·d bytes',
  ],
  ...(MALICIOUS_ONLY ? {} : { targets: targets(rows) }),
  rows,
  maliciousMode: modes,
  totalSeconds: (performance.now() - started) / 1000,
};
if (rows.length > 0) printTable(rows);
printModes(modes);
console.log(JSON.stringify(doc, null, 2));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
await POOL.close();
writeFileSync(
  `${dir}${ONLY ? `secagg-${ONLY.trim().replace(/\s+/g, '-')}.json` : MALICIOUS_ONLY ? `secagg-malicious${ONLY_N ? `-n${ONLY_N}` : ''}.json` : 'secagg.json'}`,
  `${JSON.stringify(doc, null, 2)}\n`,
);
