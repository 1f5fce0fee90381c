import { parseArgs } from 'node:util';
import { FedlearnError } from '@fedlearn/core';
import type { CommandIo } from './io.js';

export const STATUS_HELP = `fedlearn status — what a coordinator is doing now (from its control API)

Usage: fedlearn status [options]

  --url URL    the coordinator (default $FEDLEARN_URL or http://127.0.0.1:8700)
  --job ID     one job in detail: its rounds with their metrics
  --json       machine-readable output

The API token comes from FEDLEARN_API_TOKEN.
`;

interface RoundView {
  round: number;
  status: string;
  completed: number;
  sampled: number;
  accuracy?: number;
  loss?: number;
  seconds: number;
  model?: { name: string; version: number };
}
interface JobView {
  id: string;
  status: string;
  currentRound?: number;
  queuePosition?: number;
  priority: number;
  spec: { rounds: number };
  rounds: RoundView[];
  error?: { code: string; message: string };
}
interface StatusView {
  serverId: string;
  clients: { clientId: string; backend: string; lastSeen: string }[];
}

export async function runStatusCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      job: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(STATUS_HELP);
    return 0;
  }
  const token = io.env.FEDLEARN_API_TOKEN;
  if (!token) throw new FedlearnError('UNAUTHORIZED', 'set FEDLEARN_API_TOKEN to the coordinator API token');
  const base = (values.url ?? io.env.FEDLEARN_URL ?? 'http://127.0.0.1:8700').replace(/\/+$/, '');
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }).catch(
      (error: unknown) => {
        throw new FedlearnError('TRANSPORT_CLOSED', `cannot reach the coordinator at ${base}`, {
          cause: error,
        });
      },
    );
    const body = (await response.json()) as T & { error?: { code: string; message: string } };
    if (!response.ok && body.error) {
      throw new FedlearnError(
        body.error.code as ConstructorParameters<typeof FedlearnError>[0],
        body.error.message,
      );
    }
    return body;
  };
  if (values.job) {
    const job = await get<JobView>(`/v1/jobs/${encodeURIComponent(values.job)}`);
    io.stdout(
      values.json ? `${JSON.stringify(job, null, 2)}\n` : `${jobLine(job)}\n\n${roundsTable(job.rounds)}\n`,
    );
    return 0;
  }
  const status = await get<StatusView>('/v1/status');
  const { jobs } = await get<{ jobs: JobView[] }>('/v1/jobs');
  if (values.json) {
    io.stdout(`${JSON.stringify({ ...status, jobs }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `coordinator ${status.serverId} at ${base}: ${status.clients.length} client(s) connected`,
    ...status.clients.map((c) => `  ${c.clientId}  ${c.backend}  last seen ${c.lastSeen}`),
    '',
    jobs.length === 0 ? 'no jobs' : `${jobs.length} job(s):`,
    ...jobs.map((j) => `  ${jobLine(j)}`),
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

function jobLine(job: JobView): string {
  const progress = `round ${job.currentRound ?? 0}/${job.spec.rounds}`;
  const last = job.rounds.at(-1);
  const accuracy = typeof last?.accuracy === 'number' ? `, accuracy ${last.accuracy.toFixed(4)}` : '';
  const queue = job.queuePosition ? `, queue position ${job.queuePosition}` : '';
  const error = job.error ? `, ${job.error.code}: ${job.error.message}` : '';
  return `${job.id}  ${job.status}  ${progress}${accuracy}${queue}${error}`;
}

function roundsTable(rounds: readonly RoundView[]): string {
  const rows = [
    ['round', 'status', 'clients', 'accuracy', 'loss', 'seconds', 'model'],
    ...rounds.map((r) => [
      String(r.round),
      r.status,
      `${r.completed}/${r.sampled}`,
      typeof r.accuracy === 'number' ? r.accuracy.toFixed(4) : '-',
      typeof r.loss === 'number' ? r.loss.toFixed(4) : '-',
      r.seconds.toFixed(1),
      r.model ? `${r.model.name} v${r.model.version}` : '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
