import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type DemoSession,
  type DemoState,
  demoPageHtml,
  encodeDigitSlice,
} from '@fedlearn/client-browser/demo';
import { encodeParams, FedlearnError, type ModelParams, type PartitionScheme } from '@fedlearn/core';
import type { Coordinator, ServerEvaluator } from '@fedlearn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientPartition, IMAGE_SIZE } from './mnist.js';

/** Browser slices of the digits, beside the Node clients' partitions; pages take them in turn. */
export const BROWSER_SLOTS = 4;
const WASM_FILES = new Set([
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
]);

export interface BrowserDemoOptions {
  /** Node clients of the demo: partitions 0…nodeClients−1 are theirs, the next BROWSER_SLOTS are the pages'. */
  nodeClients: number;
  scheme: PartitionScheme;
  seed: number;
  clientToken: string;
  modelTopology: Record<string, unknown>;
  /** Guards the page's API (default: random); the printed URL carries it in its fragment. */
  demoToken?: string;
}

/**
 * The browser demo on the coordinator's port: the page and its script (open), and behind the
 * demo token, the page's join details, its slice of the digits, the job's rounds with their
 * participants, and the current global model (for the page's drawing pad).
 */
export class BrowserDemo {
  readonly token: string;
  private readonly state: DemoState = { job: null, rounds: [], modelRound: 0 };
  private latest: { round: number; bytes: Uint8Array } | undefined;
  private joins = 0;
  private readonly files = assetPaths();

  constructor(private readonly options: BrowserDemoOptions) {
    this.token = options.demoToken ?? randomBytes(24).toString('base64url');
  }

  /** The URL to open: the token rides in the fragment, which browsers never send to a server. */
  url(coordinatorUrl: string): string {
    return `${coordinatorUrl}/demo/#token=${this.token}`;
  }

  get partitions(): number {
    return this.options.nodeClients + BROWSER_SLOTS;
  }

  /** Wraps the coordinator's evaluator so that the page can fetch each new global model. */
  observing(evaluator: ServerEvaluator): ServerEvaluator {
    return async (params: ModelParams, round: number) => {
      this.latest = { round, bytes: encodeParams(params) };
      return evaluator(params, round);
    };
  }

  /** Follows the coordinator's events for the page's chart and participant list. */
  follow(coordinator: Coordinator): () => void {
    return coordinator.on((event) => {
      if (event.type === 'job_started' || event.type === 'job_finished') {
        const { job } = event;
        this.state.job = {
          id: job.id,
          status: job.status,
          round: job.currentRound ?? null,
          rounds: job.spec.rounds,
        };
        if (event.type === 'job_started') this.state.rounds = [];
      } else if (event.type === 'round_started') {
        if (this.state.job) this.state.job.round = event.round;
        this.state.rounds.push({
          round: event.round,
          status: 'running',
          accuracy: null,
          loss: null,
          participants: [],
        });
      } else if (event.type === 'fit_received') {
        const runtime = coordinator.clients.get(event.clientId)?.runtime ?? '';
        this.roundEntry(event.round)?.participants.push({
          clientId: event.clientId,
          runtime: runtime.startsWith('browser') ? 'browser' : runtime.startsWith('node') ? 'node' : 'other',
        });
      } else if (event.type === 'round_completed') {
        const entry = this.roundEntry(event.summary.round);
        if (entry) {
          entry.status = event.summary.status;
          entry.accuracy = event.summary.accuracy ?? null;
          entry.loss = event.summary.loss ?? null;
        }
        if (event.summary.status === 'ok' && this.latest?.round === event.summary.round) {
          this.state.modelRound = event.summary.round;
        }
      }
    });
  }

  /** The Fastify plugin for `CoordinatorOptions.extraRoutes`. */
  readonly routes = async (app: FastifyInstance): Promise<void> => {
    const page = demoPageHtml({ appUrl: '/demo/app.js' });
    app.get('/demo', (_request, reply) => reply.redirect('/demo/'));
    app.get('/demo/', (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
    app.get('/demo/app.js', (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').send(readFileSync(this.files.app)),
    );
    app.get<{ Params: { file: string } }>('/demo/vendor/:file', (request, reply) => {
      if (!WASM_FILES.has(request.params.file)) return reply.code(404).send({ error: 'no such file' });
      return reply.type('application/wasm').send(readFileSync(join(this.files.wasmDir, request.params.file)));
    });
    await app.register(async (api) => {
      api.addHook('onRequest', async (request, reply) => this.authenticate(request, reply));
      api.get('/demo/api/session', async () => this.join());
      api.get<{ Params: { slice: string } }>('/demo/api/data/:slice', (request, reply) =>
        reply.type('application/octet-stream').send(this.slice(request.params.slice)),
      );
      api.get('/demo/api/state', async () => this.state);
      api.get('/demo/api/model', (_request, reply) => {
        if (!this.latest)
          return reply.code(404).send({ error: { code: 'JOB_NOT_FOUND', message: 'no global model yet' } });
        return reply
          .type('application/octet-stream')
          .header('x-fedlearn-round', String(this.latest.round))
          .send(this.latest.bytes);
      });
    });
  };

  private join(): DemoSession {
    const n = this.joins++;
    return {
      clientToken: this.options.clientToken,
      clientId: `browser-${n + 1}`,
      slice: this.options.nodeClients + (n % BROWSER_SLOTS),
      modelTopology: this.options.modelTopology,
    };
  }

  private slice(raw: string): Uint8Array {
    const slice = Number(raw);
    const { nodeClients, scheme, seed } = this.options;
    if (!Number.isInteger(slice) || slice < nodeClients || slice >= this.partitions) {
      throw new FedlearnError('INVALID_ARGUMENT', `no browser slice ${raw.slice(0, 16)}`);
    }
    const { train } = clientPartition(slice, this.partitions, scheme, seed);
    return encodeDigitSlice(train.images, train.labels, IMAGE_SIZE);
  }

  private async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization ?? '';
    if (header.startsWith('Bearer ') && sameToken(this.token, header.slice(7))) return;
    await reply.code(401).send({
      error: { code: 'UNAUTHORIZED', message: 'missing or wrong demo token: open the URL the demo printed' },
    });
  }

  private roundEntry(round: number) {
    return this.state.rounds.find((r) => r.round === round);
  }
}

function sameToken(expected: string, given: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function assetPaths(): { app: string; wasmDir: string } {
  const require = createRequire(import.meta.url);
  return {
    app: require.resolve('@fedlearn/client-browser/demo/app.js'),
    wasmDir: dirname(require.resolve('@tensorflow/tfjs-backend-wasm')),
  };
}
