// Shared by bench:round and bench:transfer: a coordinator in a child process, and stand-in clients
// (the real client connection over real sockets, with a trainer that does no real training) here.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { SessionConnection } from '../packages/core/dist/index.js';
import { standInTrainer } from '../packages/core/dist/testing.js';

const CLIENT_TOKEN = 'bench-client-token-0123456789';

/** Starts the coordinator process; `run(job, clients)` runs one job and resolves with its measurements. */
export async function startCoordinatorProcess(options = {}) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./coordinator-process.mjs', import.meta.url)), JSON.stringify(options)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the coordinator process exited');
    return JSON.parse(value);
  };
  const { url } = await next();
  return {
    url,
    async run(job, clients) {
      child.stdin.write(`${JSON.stringify({ job, clients })}\n`);
      return next();
    },
    async stop() {
      child.stdin.write(`${JSON.stringify({ stop: true })}\n`);
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** `n` stand-in clients for a model of `size` parameters; resolves once all are connected. */
export async function startStandInClients(url, n, size, options = {}) {
  const clients = [];
  for (let i = 0; i < n; i++) {
    const socket = io(url, { auth: { token: CLIENT_TOKEN }, transports: ['websocket'], forceNew: true });
    clients.push(
      new SessionConnection(socket, {
        clientId: `stand-in-${i}`,
        trainer: standInTrainer(size, (i % 5) + 1, 10),
        runtime: 'bench',
        ...options,
      }),
    );
  }
  await Promise.all(clients.map((c) => c.whenConnected()));
  return {
    stop: () => {
      for (const client of clients) client.stop();
    },
  };
}

export function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => r[c]))),
  ].join('\n');
}
