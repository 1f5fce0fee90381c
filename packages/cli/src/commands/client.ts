import { parseArgs } from 'node:util';
import { FederatedClient, selectBackend, TfjsTrainer } from '@fedlearn/client-node';
import { formatPartitionScheme } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';
import { clientPartition } from '../mnist.js';
import { buildMnistMlp, toTensors } from '../mnist-model.js';
import { backendOption, intOption, partitionOption, tokenFromEnv } from '../options.js';
import type { CommandIo } from './io.js';

export const CLIENT_HELP = `fedlearn client — join a coordinator and train on one partition of the MNIST digits

Usage: FEDLEARN_CLIENT_TOKEN=... fedlearn client --server URL --index I [options]

  --server URL        coordinator URL (default http://127.0.0.1:8700)
  --index I           this client's partition, 0 ≤ I < --clients (required)
  --clients N         number of partitions (default 10)
  --partition P       iid | shards:K | dirichlet:ALPHA (default iid)
  --seed S            partition and model seed (default 42)
  --id NAME           client id (default client-I)
  --backend B         auto | tensorflow | wasm | cpu (default auto)
  --ca FILE           trust this CA certificate (for an https coordinator)
`;

export async function runClientCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string', default: 'http://127.0.0.1:8700' },
      index: { type: 'string' },
      clients: { type: 'string' },
      partition: { type: 'string' },
      seed: { type: 'string' },
      id: { type: 'string' },
      backend: { type: 'string' },
      ca: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(CLIENT_HELP);
    return 0;
  }
  const clients = intOption(values.clients, 'clients', 10);
  const index = intOption(values.index, 'index', -1, 0, clients - 1);
  if (index < 0) {
    io.stderr('fedlearn client: --index is required (which partition this client holds)\n');
    return 2;
  }
  const seed = intOption(values.seed, 'seed', 42, 0, 2 ** 31);
  const scheme = partitionOption(values.partition);
  const token = tokenFromEnv(io.env, 'FEDLEARN_CLIENT_TOKEN');
  const backend = await selectBackend(backendOption(values.backend));
  const data = clientPartition(index, clients, scheme, seed);
  const train = toTensors(data.train);
  const evaluation = toTensors(data.evaluation);
  const clientId = values.id ?? `client-${index}`;
  const trainer = new TfjsTrainer({ model: buildMnistMlp(seed), train, evaluation, backend });
  const { readFile } = await import('node:fs/promises');
  const client = new FederatedClient({
    serverUrl: values.server,
    token,
    clientId,
    trainer,
    ...(values.ca ? { ca: await readFile(values.ca, 'utf8') } : {}),
    onEvent: (event) => {
      if (event.type === 'fit_done') {
        io.stdout(
          `${clientId}: round ${event.round} trained on ${event.numExamples} digits, loss ${event.metrics.loss?.toFixed(4)}\n`,
        );
      } else if (event.type === 'server_error' || event.type === 'task_failed') {
        io.stderr(`${clientId}: ${event.code}: ${event.message}\n`);
      } else if (event.type === 'connect_error') {
        io.stderr(`${clientId}: cannot reach ${values.server} (${event.message}); retrying\n`);
      }
    },
  });
  io.stdout(
    `${clientId}: ${data.train.count} training and ${data.evaluation.count} held-out digits (${formatPartitionScheme(scheme)}), backend ${backend}, labels ${JSON.stringify(data.histogram)}\n`,
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
