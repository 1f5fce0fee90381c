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
// The server gets Node's native X25519 (KeyObjects cached per key), as a coordinator on Node would;
// clients keep the portable tweetnacl one. For the server-time target configuration the round is also
// run with tweetnacl on the server, to show the pure-JS cost.
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
import { simulateSecAggRound } from '../packages/core/dist/testing.js';
import { nativeX25519 } from '../packages/server/dist/index.js';

const CLIENTS = [10, 100, 1000];
const LENGTHS = [100_000, 1_000_000];
const DROPOUTS = [0, 0.1, 0.3];
const MEASURED = 3;
const BUDGET_SECONDS = 30;
const CONFIG = { clipRange: 1, quantizationBits: 12, maxWeight: 100 };
// Rough unit costs on this kind of machine, only to decide what to skip.
const AGREE_MS = 0.2;
const KEYSTREAM_BYTES_PER_MS = 500_000;
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

function runOnce(n, d, rate, hood, seed, native = true, mode = 'semi-honest') {
  const dropped = Math.floor(rate * n);
  const times = { keys: [], shares: [], masking: [], consistency: [], clientUnmask: [], serverUnmask: 0 };
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
    if (what === 'server:unmask') times.serverUnmask += ms;
    else if (Number(clientId.slice(7)) < realClients) times[key[what]].push(ms);
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
    ...(native ? { serverX25519: nativeX25519() } : {}),
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
    upload: median(uploads),
    params: sim.server.params,
    exact,
    survivors: sim.result?.survivors.length ?? n - dropped,
  };
}

function runConfig(n, d, rate) {
  const hood = neighbourhood(n, rate);
  const estimate = estimateServerSeconds(n, d, rate, hood.neighbours);
  const row = { n, d, dropout: rate, neighbours: hood.neighbours, threshold: hood.threshold };
  if (estimate > BUDGET_SECONDS) {
    return {
      ...row,
      skipped:
        `estimated server unmasking ${estimate.toFixed(0)} s > ${BUDGET_SECONDS} s: at ${rate * 100}% dropout the ` +
        `dropout-aware neighbourhood is k = ${hood.neighbours}, and each dropped client's pairwise masks with its live neighbours must be rebuilt`,
    };
  }
  const isTarget = n === TARGET.n && d === TARGET.d && rate === TARGET.dropout;
  const repeats = isTarget ? 3 : estimate < 3 && n <= 100 ? 3 : 1;
  const runs = Array.from({ length: repeats }, (_, r) => runOnce(n, d, rate, hood, 1000 + r));
  const pureJs = isTarget ? runOnce(n, d, rate, hood, 2000, false).times.serverUnmask : undefined;
  const all = (f) => median(runs.flatMap(f));
  const p = runs[0].params;
  const plain = 4 * d;
  return {
    ...row,
    ringBits: p.ringBits,
    repeats,
    clients: n <= 10 ? 'all real' : `${MEASURED} real + ${n - MEASURED} stand-ins`,
    clientMs: {
      keys: all((r) => r.times.keys),
      shares: all((r) => r.times.shares),
      masking: all((r) => r.times.masking),
      unmask: all((r) => r.times.clientUnmask),
    },
    serverUnmaskMs: median(runs.map((r) => r.times.serverUnmask)),
    ...(pureJs === undefined ? {} : { serverUnmaskMsTweetnacl: pureJs }),
    uploadBytes: all((r) => [r.upload]),
    plainFloat32Bytes: plain,
    uploadRatio: all((r) => [r.upload]) / plain,
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
    'keys ms',
    'shares ms',
    'mask ms',
    'srv unmask ms',
    'srv (nacl) ms',
    'upload B',
    'vs f32',
    'exact',
  ];
  const lines = rows.map((r) =>
    r.skipped
      ? [
          r.n,
          r.d,
          `${r.dropout * 100}%`,
          r.neighbours,
          r.threshold,
          '-',
          'skipped',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
        ]
      : [
          r.n,
          r.d,
          `${r.dropout * 100}%`,
          r.neighbours,
          r.threshold,
          r.ringBits,
          fmt(r.clientMs.keys, 2),
          fmt(r.clientMs.shares),
          fmt(r.clientMs.masking),
          fmt(r.serverUnmaskMs, 0),
          r.serverUnmaskMsTweetnacl === undefined ? '' : fmt(r.serverUnmaskMsTweetnacl, 0),
          r.uploadBytes,
          fmt(r.uploadRatio, 3),
          String(r.exact),
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(line(l));
  for (const r of rows)
    if (r.skipped) console.log(`skipped n=${r.n} d=${r.d} dropout=${r.dropout * 100}%: ${r.skipped}`);
}

function targets(rows) {
  const find = (n, d, rate) => rows.find((r) => r.n === n && r.d === d && r.dropout === rate && !r.skipped);
  const up = find(100, 100_000, 0);
  const srv = find(1000, 100_000, 0.1);
  const masking = rows.filter((r) => r.d === 1_000_000 && !r.skipped).map((r) => r.clientMs.masking);
  return {
    uploadAtN100D100k: {
      target: '<= 1.05x float32',
      value: up?.uploadRatio,
      met: up ? up.uploadRatio <= 1.05 : null,
    },
    serverUnmaskAtN1000D100kDrop10: {
      target: '<= 5000 ms',
      value: srv?.serverUnmaskMs,
      met: srv ? srv.serverUnmaskMs <= 5000 : null,
      tweetnaclValue: srv?.serverUnmaskMsTweetnacl,
      tweetnaclMet: srv ? srv.serverUnmaskMsTweetnacl <= 5000 : null,
    },
    clientMaskingAtD1M: {
      target: '<= 1000 ms',
      value: Math.max(...masking),
      met: Math.max(...masking) <= 1000,
    },
  };
}

/** The same rounds (same seeds) in both modes; the malicious mode's extra cost per stage. */
function compareModes({ n, d, dropout }) {
  const hood = neighbourhood(n, dropout);
  const repeats = n <= 100 ? 3 : 1;
  const stages = ['keys', 'shares', 'masking', 'consistency', 'clientUnmask'];
  const measureMode = (mode) => {
    const runs = Array.from({ length: repeats }, (_, r) =>
      runOnce(n, d, dropout, hood, 3000 + r, true, mode),
    );
    const client = Object.fromEntries(stages.map((s) => [s, median(runs.flatMap((r) => r.times[s]))]));
    return {
      clientMs: client,
      serverUnmaskMs: median(runs.map((r) => r.times.serverUnmask)),
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
    extraUploadBytes: mal.uploadBytes - semi.uploadBytes,
  };
}

function printModes(rows) {
  console.log(
    '| n | d | drop | k / t | extra client ms: keys / shares / mask / consistency / unmask | extra server ms | extra upload B |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const e = r.extraClientMs;
    console.log(
      `| ${r.n} | ${r.d} | ${r.dropout * 100}% | ${r.neighbours} / ${r.threshold} | ` +
        `${[e.keys, e.shares, e.masking, e.consistency, e.clientUnmask].map((v) => fmt(v, 2)).join(' / ')} | ` +
        `${fmt(r.extraServerUnmaskMs, 0)} (${fmt(r.semiHonest.serverUnmaskMs, 0)} → ${fmt(r.malicious.serverUnmaskMs, 0)}) | ${r.extraUploadBytes} |`,
    );
  }
}

// Warm the JIT on a small round so the first measured configuration is not penalised.
simulateSecAggRound({ n: 10, d: 20_000, seed: 1, config: CONFIG });

const started = performance.now();
const rows = [];
for (const n of MALICIOUS_ONLY ? [] : CLIENTS) {
  for (const d of LENGTHS) {
    for (const rate of DROPOUTS) {
      const row = runConfig(n, d, rate);
      rows.push(row);
      process.stderr.write(
        `n=${n} d=${d} dropout=${rate}: ${row.skipped ? 'skipped' : `${fmt(row.serverUnmaskMs, 0)} ms server`}\n`,
      );
    }
  }
}
const modes = MALICIOUS_CONFIGS.filter((c) => ONLY_N === undefined || c.n === ONLY_N).map((c) => {
  const row = compareModes(c);
  process.stderr.write(
    `malicious vs semi-honest n=${c.n} d=${c.d} dropout=${c.dropout}: ${JSON.stringify(row)}\n`,
  );
  return row;
});
const doc = {
  bench: 'secagg',
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model },
  config: CONFIG,
  notes: [
    `n >= 100: ${MEASURED} measured real clients, the rest stand-ins (real keys and shares, random ring vectors); the sum is then not checkable (exact = n/a)`,
    'dropped clients drop after sharing keys, before uploading (their pairwise masks must be rebuilt)',
    'server uses native X25519 (node:crypto, cached KeyObjects); srv (nacl) = same round with tweetnacl on the server',
    `configurations whose estimated server time exceeds ${BUDGET_SECONDS} s are skipped (see skipped)`,
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
writeFileSync(
  `${dir}${MALICIOUS_ONLY ? `secagg-malicious${ONLY_N ? `-n${ONLY_N}` : ''}.json` : 'secagg.json'}`,
  `${JSON.stringify(doc, null, 2)}\n`,
);
