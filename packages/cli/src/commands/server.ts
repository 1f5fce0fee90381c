import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { Coordinator, createCoordinatorStore, storeConfigFromEnv } from '@fedlearn/server';
import pino from 'pino';
import { clientAuthOption, intOption, numberOption, secretFromEnv, tlsOption } from '../options.js';
import { roundTable } from '../report.js';
import type { CommandIo } from './io.js';

export const SERVER_HELP = `fedlearn server — run a coordinator (socket.io + control API on one port)

Usage: fedlearn server [options]

  --host H             listen address (default 127.0.0.1)
  --port P             port (default 8700)
  --rounds R           also start a job of R rounds once enough clients joined (default: no job;
                       submit jobs with POST /v1/jobs). The server exits when that job ends,
                       unless --keep-running
  --keep-running       after the --rounds job, stay up and take jobs from the control API
                       (what a deployment runs: \`docker compose up\` trains at once, and
                       Airflow or curl submit more jobs later)
  --model-name NAME    registry model name of the --rounds job (default model)
  --min-clients N      clients a round needs (default 2)
  --fraction F         fraction of clients sampled per round (default 1)
  --local-epochs E, --batch-size B, --lr LR, --seed S   the job's training settings
  --tls-cert FILE --tls-key FILE                        serve https/wss (both or neither)
  --client-auth MODE   token: the shared client token lets a client claim any id (default);
                       enrolled: each client proves its id with the credential from
                       \`fedlearn enroll\` (set FEDLEARN_CLIENT_AUTH=enrolled alike)
  --home DIR           fedlearn home: checkpoints and the local model registry
                       (default $FEDLEARN_HOME or ./.fedlearn)
  --checkpoints DIR    where global models are written (default <home>/checkpoints)

Jobs, rounds and progress events are kept in the state store: PostgreSQL when DATABASE_URL is set
(schema "fedlearn"), else the embedded store in <home>/state. A coordinator restarted on the same
store resumes its unfinished job from the last completed round; jobs wait in a queue.

Every round's model is registered: in the local registry under <home>, or in MLflow when
MLFLOW_TRACKING_URI is set (artifacts in S3 with AWS_ENDPOINT_URL_S3 and AWS_* credentials).

Tokens come from FEDLEARN_API_TOKEN (admin), FEDLEARN_API_READ_TOKEN (read-only, optional) and
FEDLEARN_CLIENT_TOKEN, or from the files named by the same variables with _FILE; when unset, random
admin and client tokens are made and printed once. Enrollments and revocations are kept in the
coordinator store: PostgreSQL when DATABASE_URL is set, else <home>/state.
`;

export async function runServerCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      rounds: { type: 'string' },
      'min-clients': { type: 'string' },
      fraction: { type: 'string' },
      'local-epochs': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'client-auth': { type: 'string' },
      checkpoints: { type: 'string' },
      home: { type: 'string' },
      'keep-running': { type: 'boolean', default: false },
      'model-name': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(SERVER_HELP);
    return 0;
  }
  const tls = tlsOption(values['tls-cert'], values['tls-key']);
  const clientAuth = clientAuthOption(values['client-auth'] ?? io.env.FEDLEARN_CLIENT_AUTH);
  const givenApiToken = secretFromEnv(io.env, 'FEDLEARN_API_TOKEN');
  const givenClientToken = secretFromEnv(io.env, 'FEDLEARN_CLIENT_TOKEN');
  const apiReadToken = secretFromEnv(io.env, 'FEDLEARN_API_READ_TOKEN');
  const apiToken = givenApiToken ?? randomBytes(24).toString('base64url');
  const clientToken = givenClientToken ?? randomBytes(24).toString('base64url');
  const lifecycleConfig = resolveLifecycleConfig(io.env, {
    cwd: io.cwd,
    ...(values.home ? { home: values.home } : {}),
  });
  const lifecycle = createModelLifecycle(lifecycleConfig);
  const store = await createCoordinatorStore(storeConfigFromEnv(io.env, lifecycleConfig.home));
  const coordinator = await Coordinator.start({
    lifecycle,
    store,
    clientAuth,
    ...(apiReadToken ? { apiReadToken } : {}),
    host: values.host,
    port: intOption(values.port, 'port', 8700, 0, 65535),
    apiToken,
    clientToken,
    checkpointDir: values.checkpoints ?? join(lifecycleConfig.home, 'checkpoints'),
    logger: pino({ name: 'fedlearn-coordinator' }),
    ...(tls ? { tls } : {}),
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  io.stderr(`coordinator listening on ${coordinator.url}\n`);
  // Printed once, only when made here: a secret the operator gave is never echoed.
  if (!givenApiToken) io.stderr(`FEDLEARN_API_TOKEN=${apiToken}\n`);
  if (!givenClientToken) io.stderr(`FEDLEARN_CLIENT_TOKEN=${clientToken}\n`);
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Every finished job's round table goes to stdout: the log a deployment keeps.
  coordinator.on((event) => {
    if (event.type !== 'job_finished') return;
    const { job } = event;
    io.stdout(
      `${roundTable(job.rounds)}\njob ${job.id} ${job.status}${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}\n`,
    );
  });
  if (values.rounds) {
    const minClients = intOption(values['min-clients'], 'min-clients', 2);
    const job = await coordinator.submitJob({
      ...(values['model-name'] ? { name: values['model-name'] } : {}),
      rounds: intOption(values.rounds, 'rounds', 20),
      seed: intOption(values.seed, 'seed', 42, 0, 2 ** 31),
      strategy: {
        minFitClients: minClients,
        fractionFit: numberOption(values.fraction, 'fraction', 1, 0, 1),
      },
      fit: {
        localEpochs: intOption(values['local-epochs'], 'local-epochs', 1),
        batchSize: intOption(values['batch-size'], 'batch-size', 32),
        learningRate: numberOption(values.lr, 'lr', 0.1, 0, 10),
      },
    });
    if (values['keep-running']) await stopped;
    else await Promise.race([coordinator.waitForJob(job.id), stopped]);
  } else {
    await stopped;
  }
  await coordinator.stop();
  await lifecycle.close();
  await store.close();
  return 0;
}
