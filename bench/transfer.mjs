// Large-model transfer: coordinator peak memory and transfer throughput for models of hundreds of
// MB, with several stand-in clients (no real training: see standInTrainer in @fedlearn/core/testing).
//
//   npm run bench:transfer              (builds, then runs this file)
//   node bench/transfer.mjs --quick     (a 20 MB model only)
//
// The coordinator runs in its own process (bench/coordinator-process.mjs), so its peak RSS and CPU
// time are its own; the clients run here. Each configuration is a fresh coordinator running a job of
// ROUNDS rounds; the numbers are medians over those rounds. Throughput counts the weights sent down
// and the updates sent up in a round over the round's wall time (client work on the same machine
// included). Baseline: the coordinator's RSS with the clients connected, before the job, measured in
// the same run; growth/model is (peak - baseline) / model size.
// Prints a table, prints the JSON document and writes it to bench/results/transfer.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startCoordinatorProcess, startStandInClients, table } from './coordinator-bench.mjs';
import { median } from './stats.mjs';

const MB = 1e6;
const quick = process.argv.includes('--quick');
const MODEL_MB = quick ? [20] : [50, 200];
const CLIENTS = quick ? [2, 4] : [2, 4];
const ROUNDS = 3;

const results = [];
for (const modelMB of MODEL_MB) {
  for (const clients of CLIENTS) {
    const size = Math.round((modelMB * MB) / 4);
    const coordinator = await startCoordinatorProcess({ maxPayloadBytes: 256 * 1024 * 1024 });
    const stand = await startStandInClients(coordinator.url, clients, size);
    const outcome = await coordinator.run(
      {
        rounds: ROUNDS,
        federatedEvaluation: false,
        roundTimeoutMs: 3_600_000,
        model: { requestTimeoutMs: 3_600_000 },
        strategy: { name: 'fedavg', minFitClients: clients },
      },
      clients,
    );
    stand.stop();
    await coordinator.stop();
    const ok = outcome.rounds.filter((r) => r.status === 'ok');
    const row = {
      modelMB,
      clients,
      status: outcome.status,
      roundsOk: ok.length,
      roundSeconds: median(ok.map((r) => r.wallSeconds)),
      coordinatorCpuSeconds: median(ok.map((r) => r.cpuSeconds)),
      throughputMBps: median(ok.map((r) => (r.bytesUp + r.bytesDown) / MB / r.wallSeconds)),
      baselineRssMB: outcome.baselineRssBytes / MB,
      peakRssMB: outcome.peakRssBytes / MB,
      // What the job added to the coordinator's memory, in model sizes.
      growthOverModel: (outcome.peakRssBytes - outcome.baselineRssBytes) / (modelMB * MB),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    results.push(row);
    console.error(`model ${modelMB} MB, ${clients} clients: ${JSON.stringify(row)}`);
  }
}

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
const document = {
  benchmark: 'transfer',
  rounds: ROUNDS,
  node: process.version,
  cpus: os.cpus().length,
  loadAverage: os.loadavg(),
  results,
};
console.log(
  table(
    results.map((r) => ({
      'model MB': r.modelMB,
      clients: r.clients,
      status: r.status,
      'round s': fixed(r.roundSeconds, 2),
      'coord CPU s': fixed(r.coordinatorCpuSeconds, 2),
      'MB/s': fixed(r.throughputMBps, 1),
      'base RSS MB': fixed(r.baselineRssMB, 0),
      'peak RSS MB': fixed(r.peakRssMB, 0),
      'growth/model': fixed(r.growthOverModel, 2),
    })),
    [
      'model MB',
      'clients',
      'status',
      'round s',
      'coord CPU s',
      'MB/s',
      'base RSS MB',
      'peak RSS MB',
      'growth/model',
    ],
  ),
);
console.log(JSON.stringify(document, null, 2));
const out = fileURLToPath(new URL('./results/transfer.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
process.exit(0);
