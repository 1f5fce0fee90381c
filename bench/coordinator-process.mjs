// A coordinator in its own process, for bench:round and bench:transfer, so that its CPU time and
// peak memory are its own and not the stand-in clients'. Started by bench/coordinator-bench.mjs.
// Reads one JSON command per stdin line: {"job": spec, "clients": n} waits for n clients, runs the
// job and answers one JSON line with per-round wall times, CPU seconds and peak RSS.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { Coordinator } from '../packages/server/dist/index.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const coordinator = await Coordinator.start({
  port: 0,
  apiToken: 'bench-api-token-0123456789',
  clientToken: 'bench-client-token-0123456789',
  checkpointDir: mkdtempSync(join(tmpdir(), 'fedlearn-bench-')),
  logger: pino({ level: 'error' }),
  // The stand-in clients share a loaded machine: a slow event loop must not read as a dead peer.
  pingIntervalMs: 60_000,
  pingTimeoutMs: 120_000,
  transferTimeoutMs: 600_000,
  ...options,
});
let peakRss = process.memoryUsage().rss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 10).unref();
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
answer({ url: coordinator.url });

const waitForClients = (n) =>
  new Promise((resolve) => {
    if (coordinator.clients.size >= n) return resolve();
    const off = coordinator.on((event) => {
      if (event.type === 'client_joined' && event.connected >= n) {
        off();
        resolve();
      }
    });
  });

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  if (command.stop) break;
  await waitForClients(command.clients);
  const baselineRss = process.memoryUsage().rss;
  peakRss = baselineRss;
  const roundStarts = new Map();
  const roundCpu = new Map();
  const rounds = [];
  const off = coordinator.on((event) => {
    if (event.type === 'round_started') {
      roundStarts.set(event.round, performance.now());
      roundCpu.set(event.round, process.cpuUsage());
    }
    if (event.type === 'round_completed') {
      const cpu = process.cpuUsage(roundCpu.get(event.summary.round));
      rounds.push({
        round: event.summary.round,
        status: event.summary.status,
        completed: event.summary.completed,
        wallSeconds: (performance.now() - roundStarts.get(event.summary.round)) / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        bytesUp: event.summary.bytesUp,
        bytesDown: event.summary.bytesDown,
        error: event.summary.error?.message,
      });
    }
  });
  const job = coordinator.submitJob(command.job);
  const done = await coordinator.waitForJob(job.id);
  off();
  answer({
    status: done.status,
    error: done.error?.message,
    rounds,
    baselineRssBytes: baselineRss,
    peakRssBytes: peakRss,
  });
}
await coordinator.stop();
process.exit(0);
