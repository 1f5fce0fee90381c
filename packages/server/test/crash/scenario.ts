import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClientMessage,
  decodeParams,
  flattenParams,
  SessionConnection,
  type Trainer,
} from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { build } from 'esbuild';
import { io } from 'socket.io-client';
import type { HoldPoint, RoundSummary } from '../../src/events.js';
import type { StoreConfigInput } from '../../src/store/index.js';
import { API_TOKEN, arithmeticTrainer, CLIENT_TOKEN } from '../harness.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../store/postgres.js';

/** Client i adds DELTAS[i] to every weight and trains on WEIGHTS[i] examples. */
export const DELTAS = [0.5, -0.25, 1.5];
export const WEIGHTS = [10, 20, 30];
export const ROUNDS = 4;

/**
 * Where a run is killed: at a coordinator hold point, or (secure rounds) once a client has
 * received the `message`-th server message of a round (0: its `fit_ins`, k: its k-th SecAgg+
 * message), all clients then going silent so the coordinator is still waiting in that stage.
 */
export type Kill =
  | { hold: { point: HoldPoint; round: number } }
  | { received: { round: number; message: number } };

export interface RunResult {
  jobId: string;
  rounds: RoundSummary[];
  final: number[];
  /** The registry's versions of the job's model, as (round, version). */
  versions: { round: number | undefined; version: number }[];
  /** Event types the last coordinator streamed, from the first event on. */
  events: string[];
}

let childScript: Promise<string> | undefined;

/** The child coordinator as one ESM file; dependencies stay external (resolved from node_modules). */
function bundle(): Promise<string> {
  childScript ??= (async () => {
    const root = fileURLToPath(new URL('../../../../node_modules/.cache/', import.meta.url));
    mkdirSync(root, { recursive: true });
    const dir = mkdtempSync(join(root, 'fedlearn-crash-'));
    const outfile = join(dir, 'crash-coordinator.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./crash-coordinator.ts', import.meta.url))],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'error',
    });
    return outfile;
  })();
  return childScript;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A coordinator child; `line` resolves with the first stdout line matching. */
function spawnCoordinator(config: Record<string, unknown>) {
  return bundle().then((script) => {
    const child: ChildProcess = spawn(process.execPath, [script, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', process.env.CRASH_DEBUG ? 'inherit' : 'pipe'],
    });
    const lines: string[] = [];
    const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
    let stderr = '';
    let buffered = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters.filter((w) => w.match.test(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const line = (match: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines.find((l) => match.test(l));
        if (seen) return resolve(seen);
        waiters.push({ match, resolve });
        void exited.then(() => reject(new Error(`coordinator exited: ${stderr.slice(-2000)}`)));
      });
    const kill = async () => {
      child.kill('SIGKILL');
      await exited;
    };
    return { line, kill };
  });
}

/** Three real client sessions that reconnect by themselves; `freeze` makes them all go silent. */
function startClients(url: string, secure: boolean) {
  const state = { frozen: false, onReceived: (_clientId: string, _message: Record<string, unknown>) => {} };
  const connections = DELTAS.map((delta, i) => {
    const clientId = `c${i}`;
    const trainer: Trainer = {
      ...arithmeticTrainer(delta, WEIGHTS[i]!),
      dataFingerprint: { sha256: String(i).repeat(64), examples: WEIGHTS[i]! },
    };
    const socket = io(url, {
      auth: { token: CLIENT_TOKEN },
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 250,
      forceNew: true,
    });
    return new SessionConnection(socket, {
      clientId,
      trainer,
      runtime: 'crash-test',
      secureAggregation: secure,
      reconnect: { initialDelayMs: 50, maxDelayMs: 250 },
      intercept: (message: ClientMessage) => (state.frozen ? 'drop' : message),
      onEvent: (event) => {
        if (event.type === 'message_received') {
          state.onReceived(clientId, event.message as Record<string, unknown>);
        }
      },
    });
  });
  return {
    state,
    stop: () => {
      for (const c of connections) c.stop();
    },
  };
}

async function api(url: string, path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${API_TOKEN}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string>),
    },
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Reads the job's event stream from the start until `job_finished`; returns the event types. */
async function streamUntilFinished(url: string, jobId: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/jobs/${jobId}/events`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  const text = await response.text();
  return [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1] as string);
}

/**
 * Runs one 4-round job (plain or secure) on a fresh store, killing the coordinator with SIGKILL at
 * each of `kills` in turn and starting a new one on the same store and port each time.
 */
export async function runJob(
  storeKind: 'embedded' | 'postgres',
  secure: boolean,
  kills: readonly Kill[],
): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fedlearn-crash-'));
  const schema = uniqueSchema();
  const store: StoreConfigInput =
    storeKind === 'embedded' ? { dataDir: dir } : { databaseUrl: TEST_DATABASE_URL, schema };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const base = {
    port,
    apiToken: API_TOKEN,
    clientToken: CLIENT_TOKEN,
    store,
    checkpointDir: join(dir, 'checkpoints'),
    registryHome: join(dir, 'registry'),
  };
  const clients = startClients(url, secure);
  const spec = {
    name: secure ? 'crash-secure' : 'crash-plain',
    rounds: ROUNDS,
    seed: 11,
    federatedEvaluation: false,
    strategy: { name: 'fedavg', minFitClients: 3, minAvailableClients: 3 },
    ...(secure ? { secagg: { enabled: true, clip: 2, bits: 16 } } : {}),
  };
  let jobId: string | undefined;
  const submit = async () => {
    const job = await api(url, '/v1/jobs', {
      method: 'POST',
      body: JSON.stringify(spec),
      headers: { 'idempotency-key': `crash-${spec.name}` },
    });
    // The same key after a restart is the same job, never a second one.
    if (jobId !== undefined && job.id !== jobId) throw new Error('idempotency key made a second job');
    jobId = String(job.id);
  };
  const t0 = Date.now();
  const trace = (what: string) => {
    if (process.env.CRASH_DEBUG) process.stderr.write(`[crash ${Date.now() - t0} ms] ${what}\n`);
  };
  try {
    for (const kill of kills) {
      const child = await spawnCoordinator({ ...base, ...('hold' in kill ? { hold: kill.hold } : {}) });
      await child.line(/^listening$/);
      trace('listening');
      const reached =
        'hold' in kill
          ? child.line(new RegExp(`^held ${kill.hold.point} ${kill.hold.round}$`))
          : frozenAt(clients.state, kill.received);
      await submit();
      await reached;
      trace(`reached ${JSON.stringify(kill)}`);
      await child.kill();
      trace('killed');
      clients.state.frozen = false;
      clients.state.onReceived = () => {};
    }
    const last = await spawnCoordinator(base);
    try {
      await last.line(/^listening$/);
      trace('last listening');
      await submit();
      const id = jobId as string;
      const events = await streamUntilFinished(url, id);
      trace('finished');
      const job = await api(url, `/v1/jobs/${id}`);
      if (job.status !== 'completed')
        throw new Error(`job ended ${String(job.status)}: ${JSON.stringify(job.error)}`);
      const { rounds } = (await api(url, `/v1/jobs/${id}/rounds`)) as { rounds: RoundSummary[] };
      const model = await api(url, `/v1/jobs/${id}/model`);
      const final = Array.from(
        flattenParams(decodeParams(new Uint8Array(Buffer.from(String(model.params), 'base64')))),
      );
      const lifecycle = createModelLifecycle(
        resolveLifecycleConfig({}, { cwd: base.registryHome, home: base.registryHome }),
      );
      const versions = (await lifecycle.registry.listVersions(spec.name)).map((v) => ({
        round: v.round,
        version: v.version,
      }));
      await lifecycle.close();
      return { jobId: id, rounds, final, versions, events };
    } finally {
      await last.kill();
    }
  } finally {
    clients.stop();
    if (storeKind === 'postgres') await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves once a client received the given message of the given round; every client is then silent. */
function frozenAt(
  state: ReturnType<typeof startClients>['state'],
  at: { round: number; message: number },
): Promise<void> {
  const counts = new Map<string, number>();
  return new Promise((resolve) => {
    state.onReceived = (clientId, message) => {
      if (message.round !== at.round || state.frozen) return;
      const isFit = message.type === 'fit_ins';
      const count = message.type === 'secagg' ? (counts.get(clientId) ?? 0) + 1 : 0;
      if (message.type === 'secagg') counts.set(clientId, count);
      if ((at.message === 0 && isFit) || (at.message > 0 && count === at.message)) {
        state.frozen = true;
        resolve();
      }
    };
  });
}
