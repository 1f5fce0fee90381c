import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '@fedlearn/client-node';
import { formatPartitionScheme, toFedlearnError } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import * as tf from '@tensorflow/tfjs-core';
import pino from 'pino';
import { trainBaseline } from '../baseline.js';
import { demoQuorum, demoSecAgg } from '../demo-secagg.js';
import { type ExperimentConfig, expandGrid } from '../experiment/grid.js';
import { writeReport } from '../experiment/report-files.js';
import {
  type Baseline,
  baselineKey,
  type ExperimentResults,
  type ExperimentRun,
  type ExperimentSetup,
  sameSetup,
} from '../experiment/results.js';
import { runFederatedJob } from '../federated-run.js';
import { loadMnist } from '../mnist.js';
import { buildMnistMlp, MODEL_NAME, toTensors } from '../mnist-model.js';
import { backendOption, intOption, numberOption, partitionOption } from '../options.js';
import { privacyJobSettings } from '../privacy-option.js';
import { Progress } from '../report.js';
import type { CommandIo } from './io.js';

export const EXPERIMENT_HELP = `fedlearn experiment — run a grid of federated configurations on MNIST and write a report

Every configuration runs through a real coordinator and one \`fedlearn client\` process per
client, as \`fedlearn demo\` does, one after another. The report folder gets README.md (a summary
table), results.json and SVG plots (accuracy per round beside the centralised baseline; ε against
accuracy). It is rewritten after every configuration, and a rerun into the same folder with the
same setup skips the configurations it already holds.

Usage: fedlearn experiment --out DIR [grid] [setup]

Grid (repeat a flag for several values; the grid is their cross product):
  --partition P        iid | shards:K | dirichlet:ALPHA (default iid)
  --strategy S         NAME[:KEY=VALUE,...] as for \`fedlearn demo\` (default fedavg)
  --secagg M           off | on (default off)
  --dp D               none | central[:noise=σ,clip=C,delta=δ,epsilon=ε] |
                       distributed[:...] (default none); with epsilon the job stops at the last
                       round within it; distributed DP runs only with --secagg on
  --seed S             seed of partitions, sampling and initial weights (default 42)

Setup (shared by every configuration):
  --clients N --rounds R --local-epochs E --batch-size B --lr LR --fraction F --backend B
                       as for \`fedlearn demo\` (defaults 10, 20, 3, 16, 0.2, 1, auto)
  --round-timeout MS   round deadline (default 3600000: long, so that a loaded machine only slows
                       the runs and every client is in every round; the results stay seeded)
  --no-baseline        skip the centralised baselines
  --home DIR           registry, checkpoints and logs (default $FEDLEARN_HOME or ./.fedlearn)

  --merge DIR          runs nothing: adds the runs and baselines of the report in DIR (same
                       setup; e.g. run on another machine) to the report in --out and rewrites it
`;

export async function runExperimentCommand(args: string[], io: CommandIo, binPath: string): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      partition: { type: 'string', multiple: true },
      strategy: { type: 'string', multiple: true },
      secagg: { type: 'string', multiple: true },
      dp: { type: 'string', multiple: true },
      seed: { type: 'string', multiple: true },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      'local-epochs': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      fraction: { type: 'string' },
      backend: { type: 'string' },
      'round-timeout': { type: 'string' },
      'no-baseline': { type: 'boolean', default: false },
      home: { type: 'string' },
      merge: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(EXPERIMENT_HELP);
    return 0;
  }
  if (!values.out) {
    io.stderr('fedlearn experiment: --out DIR is required (where the report goes)\n');
    return 2;
  }
  const { configs, skipped } = expandGrid({
    partitions: (values.partition ?? ['iid']).map((p) => formatPartitionScheme(partitionOption(p))),
    strategies: values.strategy ?? ['fedavg'],
    secagg: values.secagg ?? ['off'],
    dp: values.dp ?? ['none'],
    seeds: (values.seed ?? ['42']).map((s) => intOption(s, 'seed', 42, 0, 2 ** 31)),
  });
  const backendChoice = backendOption(values.backend);
  const setup: ExperimentSetup = {
    dataset: 'mnist',
    model: `${MODEL_NAME} (784-128-10)`,
    clients: intOption(values.clients, 'clients', 10, 1, 200),
    rounds: intOption(values.rounds, 'rounds', 20, 1, 10_000),
    localEpochs: intOption(values['local-epochs'], 'local-epochs', 3, 1, 100),
    batchSize: intOption(values['batch-size'], 'batch-size', 16, 1, 8192),
    learningRate: numberOption(values.lr, 'lr', 0.2, 0, 10),
    fraction: numberOption(values.fraction, 'fraction', 1, 0, 1),
    backend: backendChoice,
  };
  const roundTimeoutMs = intOption(values['round-timeout'], 'round-timeout', 3_600_000, 100, 86_400_000);
  const out = resolve(io.cwd, values.out);
  const previous = readPrevious(join(out, 'results.json'));
  const now = () => new Date().toISOString();
  const results: ExperimentResults =
    previous && sameSetup(previous.setup, setup)
      ? previous
      : { setup, baselines: {}, runs: [], startedAt: now(), updatedAt: now() };
  const done = new Set(results.runs.filter((r) => r.status === 'completed').map((r) => r.id));
  const todo = configs.filter((c) => !done.has(c.id));

  if (values.merge) {
    if (!previous) {
      io.stderr(`fedlearn experiment: no report to merge into in ${out}\n`);
      return 2;
    }
    for (const dir of values.merge) {
      const other = readPrevious(join(resolve(io.cwd, dir), 'results.json'));
      if (!other || !sameSetup(other.setup, previous.setup)) {
        io.stderr(`fedlearn experiment: ${dir} holds no report with the same setup as ${out}\n`);
        return 2;
      }
      Object.assign(previous.baselines, other.baselines);
      const ids = new Set(other.runs.map((r) => r.id));
      previous.runs = [...previous.runs.filter((r) => !ids.has(r.id)), ...other.runs];
    }
    previous.updatedAt = now();
    writeReport(out, previous);
    io.stdout(`merged ${values.merge.length} report(s) into ${join(out, 'README.md')}\n`);
    return 0;
  }
  const home = resolve(io.cwd, values.home ?? io.env.FEDLEARN_HOME ?? '.fedlearn');
  const logFile = join(home, 'logs', `experiment-${Date.now()}.log`);
  mkdirSync(join(home, 'logs'), { recursive: true });
  const logger = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false }));
  const progress = new Progress(io.stdout, Boolean(process.stdout.isTTY) && io.env.CI === undefined);
  const backend = await selectBackend(backendChoice);
  const test = toTensors(loadMnist().test);
  const lifecycle = createModelLifecycle(resolveLifecycleConfig(io.env, { cwd: io.cwd, home }));
  const dimension = parameterCount();
  for (const line of skipped) progress.line(`skipped ${line}`);
  io.stdout(
    `fedlearn experiment: ${todo.length} of ${configs.length} configurations to run (${configs.length - todo.length} already in ${out}); backend ${backend}\nlogs: ${logFile}\n`,
  );
  const save = () => {
    results.updatedAt = now();
    results.loadAverage = loadavg();
    writeReport(out, results);
  };
  let failures = 0;
  try {
    if (!values['no-baseline']) {
      for (const key of new Set(configs.map((c) => baselineKey(c.partition, c.seed)))) {
        if (results.baselines[key]) continue;
        const config = configs.find((c) => baselineKey(c.partition, c.seed) === key) as ExperimentConfig;
        progress.line(`centralised baseline (${key}), ${setup.rounds * setup.localEpochs} epochs…`);
        const base = await trainBaseline(
          { ...setup, seed: config.seed, partitionScheme: partitionOption(config.partition) },
          test,
        );
        results.baselines[key] = { ...base, epochs: setup.rounds * setup.localEpochs } satisfies Baseline;
        progress.line(
          `centralised baseline (${key}): accuracy ${base.accuracy.toFixed(4)} in ${base.seconds.toFixed(0)} s`,
        );
        save();
      }
    }
    for (const [index, config] of todo.entries()) {
      progress.line(`[${index + 1}/${todo.length}] ${config.id}`);
      const run = await runConfig(config, {
        setup,
        binPath,
        test,
        lifecycle,
        home,
        logger,
        logFile,
        progress,
        dimension,
        roundTimeoutMs,
      });
      if (run.status !== 'completed') failures++;
      results.runs = [...results.runs.filter((r) => r.id !== run.id), run];
      progress.line(
        `[${index + 1}/${todo.length}] ${run.status}: accuracy ${run.accuracy?.toFixed(4) ?? '—'}${run.epsilon === null ? '' : `, ε = ${run.epsilon.toFixed(2)}`} in ${run.seconds.toFixed(0)} s`,
      );
      save();
    }
    save();
    io.stdout(`wrote ${join(out, 'README.md')}\n`);
    return failures === 0 ? 0 : 1;
  } finally {
    await lifecycle.close();
    tf.dispose([test.x, test.y]);
    logger.flush();
  }
}

interface RunContext {
  setup: ExperimentSetup;
  binPath: string;
  test: ReturnType<typeof toTensors>;
  lifecycle: ReturnType<typeof createModelLifecycle>;
  home: string;
  logger: pino.Logger;
  logFile: string;
  progress: Progress;
  dimension: number;
  roundTimeoutMs: number;
}

async function runConfig(config: ExperimentConfig, ctx: RunContext): Promise<ExperimentRun> {
  const { setup } = ctx;
  const started = Date.now();
  const quorum = demoQuorum({ ...setup, secagg: config.secagg, dpMode: config.dp.mode });
  const secure = demoSecAgg({ ...setup, secagg: config.secagg, dropout: 0, stageTimeoutMs: 30_000 }, quorum);
  const { privacy, secagg } = privacyJobSettings(config.dp, quorum, ctx.dimension);
  try {
    const { job, seconds } = await runFederatedJob({
      binPath: ctx.binPath,
      clients: setup.clients,
      clientArgs: [
        '--clients',
        String(setup.clients),
        '--partition',
        config.partition,
        '--seed',
        String(config.seed),
        '--backend',
        setup.backend,
      ],
      job: {
        name: MODEL_NAME,
        rounds: setup.rounds,
        seed: config.seed,
        strategy: {
          ...config.strategy,
          fractionFit: setup.fraction,
          minFitClients: quorum,
          minAvailableClients: quorum,
        },
        secagg: { ...secure.secagg, ...secagg },
        privacy,
        fit: { localEpochs: setup.localEpochs, batchSize: setup.batchSize, learningRate: setup.learningRate },
        roundTimeoutMs: ctx.roundTimeoutMs,
      },
      test: ctx.test,
      seed: config.seed,
      lifecycle: ctx.lifecycle,
      checkpointDir: join(ctx.home, 'checkpoints'),
      logger: ctx.logger,
      logFile: ctx.logFile,
      progress: ctx.progress,
    });
    const last = [...job.rounds].reverse().find((r) => r.status === 'ok');
    return {
      id: config.id,
      config,
      status: job.status,
      accuracy: last?.accuracy ?? null,
      loss: last?.loss ?? null,
      epsilon: job.privacy?.epsilon ?? null,
      delta: job.privacy?.delta ?? null,
      roundsRun: job.rounds.filter((r) => r.status === 'ok').length,
      ...(job.privacy?.stopped ? { stopped: job.privacy.stopped.reason } : {}),
      rounds: job.rounds.map((r) => ({
        round: r.round,
        accuracy: r.accuracy ?? null,
        loss: r.loss ?? null,
        epsilon: r.privacy?.epsilon ?? null,
      })),
      seconds,
      ...(job.error ? { error: `${job.error.code}: ${job.error.message}` } : {}),
    };
  } catch (error) {
    const e = toFedlearnError(error);
    return {
      id: config.id,
      config,
      status: 'failed',
      accuracy: null,
      loss: null,
      epsilon: null,
      delta: null,
      roundsRun: 0,
      rounds: [],
      seconds: (Date.now() - started) / 1000,
      error: `${e.code}: ${e.message}`,
    };
  }
}

function readPrevious(file: string): ExperimentResults | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ExperimentResults;
  } catch {
    return undefined;
  }
}

/** The MLP's parameter count, for sizing the distributed-DP ring. */
function parameterCount(): number {
  const model = buildMnistMlp(0);
  try {
    return model.countParams();
  } finally {
    model.dispose();
  }
}
