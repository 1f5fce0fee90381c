// Client masking time of the browser bundle in headless Chromium (issue 14): the SecAgg+ masked-input
// stage (quantize, expand k + 1 ChaCha20 masks of the whole vector with the portable keystream,
// pack) at d = 100k and d = 1M, k = 24 (n = 25, complete graph).
//
//   npm run bench:secagg-browser     (builds, then runs this file)
//   node bench/secagg-browser.mjs    (needs packages/core/dist and packages/client-browser/dist)
//
// The Node side runs the real server round; every client runs in the page (the browser bundle, as
// a real page imports it). The first MEASURED clients' masking is timed in the page with
// performance.now(); the masked vectors stay in the page. Prints a table and the JSON document, and
// writes it to bench/results/secagg-browser.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  createSecAggServerRound,
  cryptoRandomBytes,
  decodeSecAggMessage,
  encodeSecAggMessage,
} from '../packages/core/dist/index.js';

const LENGTHS = [100_000, 1_000_000];
const N = 25;
const HOOD = { neighbours: 24, threshold: 13 };
const MEASURED = 3;
const CONFIG = { clipRange: 1, quantizationBits: 12, maxWeight: 100 };

const PAGE = `<!doctype html><script type="module">
import * as sdk from '/index.js';
const clients = new Map();
window.bench = {
  create(setup, ids) {
    const s = sdk.decodeSecAggMessage(Uint8Array.from(setup));
    for (const id of ids) clients.set(id, sdk.createSecAggClient(s, id, { randomBytes: sdk.cryptoRandomBytes }));
  },
  advertise(id) { return Array.from(sdk.encodeSecAggMessage(clients.get(id).advertiseKeys())); },
  handle(id, bytes) { return Array.from(sdk.encodeSecAggMessage(clients.get(id).handle(sdk.decodeSecAggMessage(Uint8Array.from(bytes))))); },
  mask(id, bytes, d) {
    const message = sdk.decodeSecAggMessage(Uint8Array.from(bytes));
    const update = Float32Array.from({ length: d }, (_, i) => Math.sin(i) * 0.5);
    const t0 = performance.now();
    const reply = clients.get(id).handle(message, { update, weight: 50 });
    const ms = performance.now() - t0;
    return { ms, packedBytes: reply.vector.length };
  },
};
window.ready = true;
</script>`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const bytes = (m) => Array.from(encodeSecAggMessage(m));

const bundle = readFileSync(
  fileURLToPath(new URL('../packages/client-browser/dist/index.js', import.meta.url)),
);
const server = createServer((request, response) => {
  if (request.url === '/index.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
  else response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const loadAtStart = os.loadavg();
const rows = [];
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => globalThis.ready === true);
  const version = browser.version();
  for (const d of LENGTHS) {
    const ids = Array.from({ length: N }, (_, i) => `client-${i}`);
    const round = createSecAggServerRound({ ...CONFIG, ...HOOD, dimension: d }, ids, {
      round: 1,
      randomBytes: cryptoRandomBytes,
    });
    await page.evaluate(([s, i]) => globalThis.bench.create(s, i), [bytes(round.setup), ids]);
    let step = round.start();
    for (const id of ids) {
      const reply = await page.evaluate((i) => globalThis.bench.advertise(i), id);
      step = round.handle(id, decodeSecAggMessage(Uint8Array.from(reply)));
    }
    if (step.kind !== 'send') throw new Error(`advertise-keys ended with ${step.kind}`);
    let next = step;
    for (const { to, message } of step.messages) {
      const reply = await page.evaluate(([i, m]) => globalThis.bench.handle(i, m), [to, bytes(message)]);
      next = round.handle(to, decodeSecAggMessage(Uint8Array.from(reply)));
    }
    if (next.kind !== 'send') throw new Error(`share-keys ended with ${next.kind}`);
    const times = [];
    let packedBytes = 0;
    for (const { to, message } of next.messages.slice(0, MEASURED)) {
      const r = await page.evaluate(
        ([i, m, dim]) => globalThis.bench.mask(i, m, dim),
        [to, bytes(message), d],
      );
      times.push(r.ms);
      packedBytes = r.packedBytes;
    }
    rows.push({ n: N, d, ...HOOD, maskingMs: median(times), runs: times, packedBytes, chromium: version });
    process.stderr.write(`d=${d}: masking ${median(times).toFixed(0)} ms (median of ${times.length})\n`);
  }
} finally {
  await browser.close();
  server.close();
}

const doc = {
  bench: 'secagg-browser',
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: os.cpus().length,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: os.loadavg(),
  },
  notes: [
    'masking = the client’s whole masked-input stage in the page (quantize with stochastic rounding, k + 1 portable ChaCha20 masks, pack)',
    `k = ${HOOD.neighbours} (n = ${N}, complete graph); median over the first ${MEASURED} clients`,
  ],
  rows,
};
console.log('| d | k | masking ms (Chromium, median) | runs |');
console.log('|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.d} | ${r.neighbours} | ${r.maskingMs.toFixed(1)} | ${r.runs.map((t) => t.toFixed(0)).join(', ')} |`,
  );
console.log(JSON.stringify(doc, null, 2));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}secagg-browser.json`, `${JSON.stringify(doc, null, 2)}\n`);
