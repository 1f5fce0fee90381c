import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  assertCompatibleProtocol,
  type ClientMessage,
  type Clock,
  createStrategy,
  FedlearnError,
  PROTOCOL_VERSION,
  type Rng,
  type Strategy,
  systemClock,
  toFedlearnError,
} from '@fedlearn/core';
import type { ModelLifecycle } from '@fedlearn/registry';
import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Server as SocketServer } from 'socket.io';
import { CheckpointWriter } from './checkpoint.js';
import { ClientRegistry } from './client-registry.js';
import { type CoordinatorConfigInput, parseCoordinatorConfig } from './config.js';
import { ClientConnection } from './connection.js';
import { controlApi } from './control-api.js';
import type { CoordinatorEvent, JobState, ServerEvaluator } from './events.js';
import { clientErrorHandler, frameworkErrors } from './http-errors.js';
import { privateStrategy } from './job-privacy.js';
import { JobRunner } from './job-runner.js';
import { type JobSpec, type JobSpecInput, parseJobSpec } from './job-spec.js';
import { CoordinatorMetrics } from './metrics.js';
import { ModelRecorder } from './model-recorder.js';
import { clientTokenGuard } from './tokens.js';

export interface CoordinatorOptions extends CoordinatorConfigInput {
  logger?: Logger;
  clock?: Clock;
  /** Server-side evaluation of each new global model (e.g. on a test set). */
  evaluator?: ServerEvaluator;
  /** Where every global model is registered and promoted (see `@fedlearn/registry`). */
  lifecycle?: ModelLifecycle;
  /** Builds a job's strategy from its spec (default: the strategy registry in core). */
  strategy?: (spec: JobSpec) => Strategy;
  /** Central DP's noise source: a CSPRNG by default; tests inject a seeded one. */
  privacyRng?: Rng;
  /**
   * Extra routes on the coordinator's port (e.g. the CLI's browser demo page), registered as one
   * encapsulated Fastify plugin. Each route does its own authentication.
   */
  extraRoutes?: (app: FastifyInstance) => Promise<void>;
}

type Listener = (event: CoordinatorEvent) => void;

/**
 * The coordinator: accepts clients over socket.io, runs jobs round by round, and serves the
 * control API, all on one port.
 *
 * @example
 * const coordinator = await Coordinator.start({ apiToken, clientToken, port: 8700 });
 * const job = coordinator.submitJob({ rounds: 20 });
 * await coordinator.waitForJob(job.id);
 */
export class Coordinator {
  readonly clients = new ClientRegistry();
  readonly jobs = new Map<string, JobState>();
  readonly metrics = new CoordinatorMetrics();
  private readonly listeners = new Set<Listener>();
  private runner: JobRunner | undefined;
  private readonly connections = new Set<ClientConnection>();

  private constructor(
    readonly config: ReturnType<typeof parseCoordinatorConfig>,
    readonly logger: Logger,
    readonly clock: Clock,
    private readonly evaluator: ServerEvaluator | undefined,
    private readonly lifecycle: ModelLifecycle | undefined,
    private readonly makeStrategy: (spec: JobSpec) => Strategy,
    private readonly http: FastifyInstance,
    private readonly io: SocketServer,
  ) {}

  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const {
      logger: givenLogger,
      clock,
      evaluator,
      lifecycle,
      strategy,
      privacyRng,
      extraRoutes,
      ...configInput
    } = options;
    const config = parseCoordinatorConfig(configInput);
    const logger = givenLogger ?? pino({ name: 'fedlearn-coordinator' });
    const https = config.tls
      ? { key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) }
      : null;
    const http = Fastify({
      // Request logs would drown the round logs; failures are logged by the error handler.
      loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }),
      ...(https ? { https } : {}),
      frameworkErrors,
      clientErrorHandler,
    }) as unknown as FastifyInstance;
    const io = new SocketServer(http.server, {
      maxHttpBufferSize: config.chunkBytes + 64 * 1024,
      serveClient: false,
      transports: ['websocket', 'polling'],
    });
    const coordinator = new Coordinator(
      config,
      logger,
      clock ?? systemClock,
      evaluator,
      lifecycle,
      (spec) => privateStrategy(strategy?.(spec) ?? createStrategy(spec.strategy), spec, privacyRng),
      http,
      io,
    );
    coordinator.attachSockets();
    await http.register(controlApi, { coordinator });
    if (extraRoutes) await http.register(extraRoutes);
    await http.listen({ host: config.host, port: config.port });
    logger.info({ url: coordinator.url }, 'coordinator listening');
    return coordinator;
  }

  get url(): string {
    const address = this.http.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.config.tls ? 'https' : 'http'}://${host}:${address.port}`;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: CoordinatorEvent): void {
    this.metrics.observe(event);
    for (const listener of this.listeners) listener(event);
  }

  /** Queues a job and starts it at once. Only one job runs at a time. */
  submitJob(input: JobSpecInput): JobState {
    const spec = parseJobSpec(input);
    if (this.runner) {
      throw new FedlearnError(
        'JOB_CONFLICT',
        `job ${this.runner.id} is still running; wait for it or cancel it`,
      );
    }
    const strategy = this.makeStrategy(spec);
    if (spec.secagg.enabled && strategy.requiresIndividualUpdates) {
      throw new FedlearnError(
        'STRATEGY_INCOMPATIBLE',
        `strategy ${strategy.name} needs each client's update, which secure aggregation hides: use fedavg or disable secagg`,
        { details: { strategy: strategy.name } },
      );
    }
    const job: JobState = {
      id: `${spec.name}-${randomUUID().slice(0, 8)}`,
      spec,
      status: 'queued',
      createdAt: new Date(this.clock.now()).toISOString(),
      rounds: [],
    };
    this.jobs.set(job.id, job);
    const runner = new JobRunner({
      job,
      spec,
      strategy,
      clients: this.clients,
      clock: this.clock,
      logger: this.logger.child({ jobId: job.id }),
      maxPayloadBytes: this.config.maxPayloadBytes,
      checkpoints: new CheckpointWriter(this.config.checkpointDir),
      evaluator: this.evaluator,
      recorder: this.lifecycle
        ? new ModelRecorder(this.lifecycle, this.logger.child({ jobId: job.id }))
        : undefined,
      emit: (event) => this.emit(event),
    });
    this.runner = runner;
    void runner.run().finally(() => {
      if (this.runner === runner) this.runner = undefined;
    });
    return job;
  }

  cancelJob(id: string): JobState {
    const job = this.jobs.get(id);
    if (!job) throw new FedlearnError('JOB_NOT_FOUND', `no job ${id}`);
    if (this.runner?.id === id) this.runner.cancel();
    return job;
  }

  /** Resolves with the job once it has finished, whatever its outcome. */
  waitForJob(id: string): Promise<JobState> {
    const job = this.jobs.get(id);
    if (!job) return Promise.reject(new FedlearnError('JOB_NOT_FOUND', `no job ${id}`));
    if (['completed', 'failed', 'cancelled'].includes(job.status)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const off = this.on((event) => {
        if (event.type === 'job_finished' && event.job.id === id) {
          off();
          resolve(event.job);
        }
      });
    });
  }

  /** The running job's current global model as tfjs artifacts, if it has one. */
  currentArtifacts() {
    return this.runner?.artifacts();
  }

  async stop(): Promise<void> {
    this.runner?.cancel();
    for (const connection of this.connections) connection.disconnect();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    await this.http.close().catch(() => undefined);
  }

  private attachSockets(): void {
    this.io.use(clientTokenGuard(this.config.clientToken, this.logger));
    this.io.on('connection', (socket) => {
      const connection = new ClientConnection(socket, {
        maxPayloadBytes: this.config.maxPayloadBytes,
        chunkBytes: this.config.chunkBytes,
        unidentifiedBufferBytes: this.config.unidentifiedBufferBytes,
        transferTimeoutMs: this.config.transferTimeoutMs,
        clock: this.clock,
        logger: this.logger,
        onMessage: (conn, message) => this.onMessage(conn, message),
        onRefused: (conn, error) => {
          const { type, jobId, round } = error.details as {
            type?: unknown;
            jobId?: unknown;
            round?: unknown;
          };
          if (!this.clients.isCurrent(conn)) return;
          if (type === 'get_parameters_res') return this.runner?.onParameters(conn.clientId!, undefined);
          if (typeof jobId !== 'string' || typeof round !== 'number') return;
          this.runner?.onClientError(conn.clientId!, jobId, round);
        },
      });
      this.connections.add(connection);
      socket.on('disconnect', (reason) => {
        this.connections.delete(connection);
        const clientId = this.clients.remove(connection);
        if (clientId !== undefined) this.clientLeft(clientId, reason);
      });
    });
  }

  private clientLeft(clientId: string, reason: string): void {
    this.logger.info({ clientId, reason }, 'client left');
    this.runner?.clientLeft(clientId);
    this.emit({ type: 'client_left', clientId, connected: this.clients.size });
  }

  private onMessage(connection: ClientConnection, message: ClientMessage): void {
    if (message.type === 'hello') return this.onHello(connection, message);
    if (!this.clients.isCurrent(connection)) {
      return connection.refuse(
        new FedlearnError('UNKNOWN_CLIENT', 'say hello before anything else'),
        message.type,
      );
    }
    const client = this.clients.get(connection.clientId!)!;
    this.clients.touch(client.info.clientId, this.clock.now());
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'fit_res':
      case 'evaluate_res':
      case 'secagg':
        if (!this.runner) {
          return connection.refuse(
            new FedlearnError('STALE_ROUND', 'no job is running', { details: { currentRound: null } }),
            message.type,
            { jobId: message.jobId, round: message.round },
          );
        }
        return this.runner.handle(client, message);
      case 'get_parameters_res':
        return this.runner?.onParameters(client.info.clientId, message);
      case 'client_error':
        this.logger.warn(
          { clientId: client.info.clientId, ...message.error, round: message.round },
          'client reported an error',
        );
        return this.runner?.onClientError(client.info.clientId, message.jobId, message.round);
    }
  }

  private onHello(connection: ClientConnection, hello: Extract<ClientMessage, { type: 'hello' }>): void {
    try {
      assertCompatibleProtocol(hello.protocolVersion);
    } catch (error) {
      return connection.refuse(toFedlearnError(error), 'hello', {}, true);
    }
    const { replaced, renamedFrom } = this.clients.register(connection, hello, this.clock.now());
    if (renamedFrom !== undefined) this.clientLeft(renamedFrom, 'said hello again as another client');
    if (replaced) {
      replaced.connection.refuse(
        new FedlearnError('DUPLICATE_CLIENT', `client ${hello.clientId} connected again elsewhere`),
        undefined,
        {},
        true,
      );
      this.runner?.clientLeft(hello.clientId);
    }
    connection.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      serverId: this.config.serverId,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
    });
    this.logger.info(
      { clientId: hello.clientId, examples: hello.numExamples, backend: hello.capabilities.backend },
      'client joined',
    );
    this.emit({ type: 'client_joined', clientId: hello.clientId, connected: this.clients.size });
  }
}
