// Coordinator overhead per round for 10, 100 and 1,000 connected clients that do no real training
// (standInTrainer in @fedlearn/core/testing: the real client connection over real sockets), with and
// without secure aggregation, for a model of 100,000 parameters.
//
//   npm run bench:round                 (builds, then runs this file)
//   node bench/round.mjs --clients 10,100 --secagg-max 100
//
// The coordinator runs in its own process (bench/coordinator-process.mjs): its CPU seconds per round
// and its peak RSS are its own; the round's wall time includes the clients' work, which shares the
// machine. Numbers are medians over ROUNDS rounds of one job per configuration. Secure rounds above
// --secagg-max clients are skipped (each stand-in client runs real SecAgg+ here, in one process).
// Target: 1,000 plain clients in under 5 s of coordinator overhead (CPU seconds per round).
// Prints a table, prints the JSON document and writes it to bench/results/round.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startCoordinatorProcess, startStandInClients, table } from './coordinator-bench.mjs';
import { median } from './stats.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1];
};
const CLIENTS = arg('--clients', '10,100,1000').split(',').map(Number);
const SECAGG_MAX = Number(arg('--secagg-max', '100'));
const SIZE = 100_000;
const ROUNDS = Number(arg('--rounds', '3'));
const TARGET_SECONDS = 5;

const results = [];
for (const clients of CLIENTS) {
  for (const secagg of [false, true]) {
    if (secagg && clients > SECAGG_MAX) {
      results.push({ clients, secagg, status: 'skipped', reason: `over --secagg-max ${SECAGG_MAX}` });
      continue;
    }
    const coordinator = await startCoordinatorProcess();
    const stand = await startStandInClients(coordinator.url, clients, SIZE);
    const outcome = await coordinator.run(
      {
        rounds: ROUNDS,
        federatedEvaluation: false,
        roundTimeoutMs: 3_600_000,
        clientWaitMs: 3_600_000,
        model: { requestTimeoutMs: 600_000 },
        strategy: { name: 'fedavg', minFitClients: clients },
        ...(secagg ? { secagg: { enabled: true, clip: 16, stageTimeoutMs: 3_600_000 } } : {}),
      },
      clients,
    );
    stand.stop();
    await coordinator.stop();
    const ok = outcome.rounds.filter((r) => r.status === 'ok');
    const row = {
      clients,
      secagg,
      status: outcome.status,
      roundsOk: ok.length,
      roundSeconds: median(ok.map((r) => r.wallSeconds)),
      coordinatorCpuSeconds: median(ok.map((r) => r.cpuSeconds)),
      baselineRssMB: outcome.baselineRssBytes / 1e6,
      peakRssMB: outcome.peakRssBytes / 1e6,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(ok.length < outcome.rounds.length
        ? { roundErrors: [...new Set(outcome.rounds.map((r) => r.error).filter(Boolean))] }
        : {}),
    };
    results.push(row);
    console.error(`${clients} clients, secagg ${secagg}: ${JSON.stringify(row)}`);
  }
}

const target = results.find((r) => r.clients === 1000 && !r.secagg && r.status === 'completed');
const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const document = {
  benchmark: 'round',
  modelParameters: SIZE,
  rounds: ROUNDS,
  node: process.version,
  cpus: os.cpus().length,
  loadAverage: os.loadavg(),
  target: {
    description: `1000 plain clients: coordinator CPU per round under ${TARGET_SECONDS} s`,
    coordinatorCpuSeconds: target?.coordinatorCpuSeconds ?? null,
    met: target ? target.coordinatorCpuSeconds < TARGET_SECONDS : null,
  },
  results,
};
console.log(
  table(
    results.map((r) => ({
      clients: r.clients,
      secagg: r.secagg ? 'yes' : 'no',
      status: r.status,
      'round s': fixed(r.roundSeconds, 2),
      'coord CPU s': fixed(r.coordinatorCpuSeconds, 2),
      'base RSS MB': fixed(r.baselineRssMB, 0),
      'peak RSS MB': fixed(r.peakRssMB, 0),
    })),
    ['clients', 'secagg', 'status', 'round s', 'coord CPU s', 'base RSS MB', 'peak RSS MB'],
  ),
);
console.log(JSON.stringify(document, null, 2));
const out = fileURLToPath(new URL('./results/round.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
process.exit(0);
