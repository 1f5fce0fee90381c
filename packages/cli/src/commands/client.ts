import { parseArgs } from 'node:util';
import { FederatedClient, selectBackend, TfjsTrainer } from '@fedlearn/client-node';
import { type ClientMessage, createRng, FedlearnError, formatPartitionScheme } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import { readCredential, readIdentity } from '../identity-files.js';
import { clientPartition } from '../mnist.js';
import { buildMnistMlp, toTensors } from '../mnist-model.js';
import { backendOption, intOption, partitionOption, secretFromEnv, tokenFromEnv } from '../options.js';
import { clientIndexOption, systemReplicaLookup } from '../replica-index.js';
import type { CommandIo } from './io.js';

export const CLIENT_HELP = `fedlearn client — join a coordinator and train on one partition of the MNIST digits

Usage: FEDLEARN_CLIENT_TOKEN=... fedlearn client --server URL --index I|auto [options]

  --server URL        coordinator URL (default $FEDLEARN_SERVER, else http://127.0.0.1:8700)
  --index I           this client's partition, 0 ≤ I < --clients (required); \`auto\`: take it
                      from FEDLEARN_CLIENT_INDEX, else from the compose container name
                      (<project>-client-<n> → n − 1, found by host name or reverse DNS), so
                      replicas of one service (deploy.replicas, --scale) each hold their own
  --clients N         number of partitions (default 10)
  --partition P       iid | shards:K | dirichlet:ALPHA (default iid)
  --seed S            partition and model seed (default 42)
  --id NAME           client id (default client-I)
  --backend B         auto | tensorflow | wasm | cpu (default auto)
  --ca FILE           trust this CA certificate (PEM) for an https coordinator whose
                      certificate is self-signed or from a private CA; without it the
                      client stops with TLS_CERT_UNTRUSTED rather than retry
  --dropout P         fault injection, P in [0, 1): in each secure round, with probability P,
                      vanish at a random SecAgg+ stage (go silent or disconnect), seeded by
                      --seed, the round and --index; come back for later rounds (default 0)
  --identity-dir DIR  the files \`fedlearn enroll\` wrote: this client's credential (DIR/ID.credential,
                      proves its id to a coordinator that requires enrollment), its Ed25519 key
                      (DIR/ID.key) and every client's pinned public key (DIR/pinned.json), used
                      by malicious-server secure aggregation

The credential may also come from FEDLEARN_CLIENT_CREDENTIAL or FEDLEARN_CLIENT_CREDENTIAL_FILE.
`;

export async function runClientCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      index: { type: 'string' },
      clients: { type: 'string' },
      partition: { type: 'string' },
      seed: { type: 'string' },
      id: { type: 'string' },
      backend: { type: 'string' },
      ca: { type: 'string' },
      dropout: { type: 'string' },
      'identity-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(CLIENT_HELP);
    return 0;
  }
  const clients = intOption(values.clients, 'clients', 10);
  if (values.index === undefined) {
    io.stderr('fedlearn client: --index is required (which partition this client holds, or auto)\n');
    return 2;
  }
  const { index, source } = await clientIndexOption(values.index, clients, systemReplicaLookup(io.env));
  const serverUrl = values.server ?? (io.env.FEDLEARN_SERVER?.trim() || 'http://127.0.0.1:8700');
  const seed = intOption(values.seed, 'seed', 42, 0, 2 ** 31);
  const scheme = partitionOption(values.partition);
  const dropout = dropoutOption(values.dropout);
  const token = tokenFromEnv(io.env, 'FEDLEARN_CLIENT_TOKEN');
  const backend = await selectBackend(backendOption(values.backend));
  const data = clientPartition(index, clients, scheme, seed);
  const train = toTensors(data.train);
  const evaluation = toTensors(data.evaluation);
  const clientId = values.id ?? `client-${index}`;
  const trainer = new TfjsTrainer({ model: buildMnistMlp(seed), train, evaluation, backend });
  const { readFile } = await import('node:fs/promises');
  const credential =
    secretFromEnv(io.env, 'FEDLEARN_CLIENT_CREDENTIAL') ??
    (values['identity-dir'] ? await readCredential(values['identity-dir'], clientId) : undefined);
  const client = new FederatedClient({
    serverUrl,
    token,
    clientId,
    trainer,
    ...(credential ? { credential } : {}),
    ...(values.ca ? { ca: await readFile(values.ca, 'utf8') } : {}),
    ...(values['identity-dir']
      ? { secagg: { identity: await readIdentity(values['identity-dir'], clientId) } }
      : {}),
    ...(dropout > 0
      ? {
          intercept: dropoutIntercept(dropout, seed, index, (round, stage, mode) =>
            io.stdout(`${clientId}: round ${round}: vanishing at SecAgg+ stage ${stage} (${mode})\n`),
          ),
        }
      : {}),
    onEvent: (event) => {
      if (event.type === 'fit_done') {
        io.stdout(
          `${clientId}: round ${event.round} trained on ${event.numExamples} digits, loss ${event.metrics.loss?.toFixed(4)}\n`,
        );
      } else if (event.type === 'server_error' || event.type === 'task_failed') {
        io.stderr(`${clientId}: ${event.code}: ${event.message}\n`);
      } else if (event.type === 'connect_error') {
        io.stderr(`${clientId}: cannot reach ${serverUrl} (${event.message}); retrying\n`);
      }
    },
  });
  io.stdout(
    `${clientId}: partition ${index} of ${clients}${source === '--index' ? '' : ` (from ${source})`}, ${data.train.count} training and ${data.evaluation.count} held-out digits (${formatPartitionScheme(scheme)}), backend ${backend}, labels ${JSON.stringify(data.histogram)}\n`,
  );
  await client.start().catch(() => undefined);
  try {
    await client.done;
    return 0;
  } catch (error) {
    io.stderr(`${clientId}: stopped: ${(error as Error).message}\n`);
    return 1;
  } finally {
    tf.dispose([train.x, train.y, evaluation.x, evaluation.y]);
  }
}

/** Reads --dropout: a probability in [0, 1). */
export function dropoutOption(value: string | undefined): number {
  if (value === undefined) return 0;
  const p = Number(value);
  if (!(p >= 0 && p < 1)) {
    throw new FedlearnError('INVALID_CONFIG', `--dropout must be a number in [0, 1), got "${value}"`);
  }
  return p;
}

const SECAGG_STAGES = ['advertise-keys', 'share-keys', 'masked-input', 'unmask'] as const;
type Vanish = 'silent' | 'disconnect';

/** Whether, and how, client `index` vanishes in `round`: the same for the same seed. */
function dropoutPlan(rate: number, seed: number, round: number, index: number) {
  const rng = createRng((seed * 1_000_003 + round * 7919 + index * 104_729) >>> 0);
  if (rng.next() >= rate) return undefined;
  const mode: Vanish = rng.next() < 0.5 ? 'silent' : 'disconnect';
  return { stage: rng.int(SECAGG_STAGES.length), mode };
}

/**
 * Fault injection for the demo: in each secure round, with probability `rate`, the client stops
 * at a random SecAgg+ stage — its message of that stage and every later one of the round are
 * dropped (silent) or it disconnects instead of sending it (and reconnects after its backoff).
 */
export function dropoutIntercept(
  rate: number,
  seed: number,
  index: number,
  onVanish: (round: number, stage: string, mode: Vanish) => void,
): (message: ClientMessage) => ClientMessage | 'drop' | 'disconnect' {
  const sent = new Map<string, number>();
  return (message) => {
    if (message.type !== 'secagg') return message;
    const key = `${message.jobId}/${message.round}`;
    const stage = sent.get(key) ?? 0;
    sent.set(key, stage + 1);
    const plan = dropoutPlan(rate, seed, message.round, index);
    if (plan === undefined || stage < plan.stage) return message;
    if (stage > plan.stage) return 'drop';
    onVanish(message.round, SECAGG_STAGES[plan.stage] as string, plan.mode);
    return plan.mode === 'disconnect' ? 'disconnect' : 'drop';
  };
}
