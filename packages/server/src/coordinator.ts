import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  assertCompatibleProtocol,
  type ClientMessage,
  type Clock,
  createStrategy,
  FedlearnError,
  type ModelParams,
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
import { ClientRegistry, type RegisteredClient } from './client-registry.js';
import { type CoordinatorConfigInput, parseCoordinatorConfig } from './config.js';
import { ClientConnection } from './connection.js';
import { type ControlRoutes, controlApi } from './control-api.js';
import type { CoordinatorEvent, CoordinatorHooks, JobState, ServerEvaluator } from './events.js';
import { clientErrorHandler, frameworkErrors } from './http-errors.js';
import { ApiAccess } from './identity/admin-tokens.js';
import { ClientEnrollments } from './identity/enrollment.js';
import { withEnrolledIdentities } from './identity/job-identities.js';
import { TokenBucketLimiter } from './identity/rate-limit.js';
import { privateStrategy } from './job-privacy.js';
import { JobRunner } from './job-runner.js';
import type { JobSpec, JobSpecInput } from './job-spec.js';
import { JobFeed } from './jobs/job-feed.js';
import { JobScheduler, type SubmitOptions } from './jobs/job-scheduler.js';
import { CoordinatorMetrics } from './metrics.js';
import { ModelRecorder } from './model-recorder.js';
import { ClientRecords } from './sampling/client-records.js';
import { HeartbeatMonitor } from './sampling/heartbeat-monitor.js';
import { type CoordinatorStore, EmbeddedCoordinatorStore } from './store/index.js';
import { clientTokenGuard, connectionRateLimit } from './tokens.js';
import { TransferAdmission } from './transfer-admission.js';

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
  /**
   * The durable state (jobs, rounds, events, client enrollments and revocations). Default: the embedded store in `stateDir`, opened
   * and closed by the coordinator; a given store (e.g. PostgreSQL) is the caller's to close.
   */
  store?: CoordinatorStore;
  /** Test hooks (crash tests stop the coordinator at exact points of a round). */
  hooks?: CoordinatorHooks;
  /** More `/v1` route modules (authenticated like the rest), e.g. client enrollment. */
  apiRoutes?: readonly ControlRoutes[];
}

type Listener = (event: CoordinatorEvent) => void;

/**
 * The coordinator: accepts clients over socket.io, runs queued jobs round by round (resuming
 * unfinished ones from the state store on start), and serves the control API, all on one port.
 *
 * @example
 * const coordinator = await Coordinator.start({ apiToken, clientToken, port: 8700 });
 * const job = await coordinator.submitJob({ rounds: 20 });
 * await coordinator.waitForJob(job.id);
 */
export class Coordinator {
  readonly clients = new ClientRegistry();
  readonly metrics = new CoordinatorMetrics();
  private readonly listeners = new Set<Listener>();
  private readonly connections = new Set<ClientConnection>();
  private readonly scheduler: JobScheduler;
  readonly feed: JobFeed;
  /** Socket handshakes and hellos per peer address. */
  private readonly attempts: TokenBucketLimiter;
  /** One memory budget for the uploads of every client. */
  private readonly admission: TransferAdmission;
  /** Speed and reliability of every client seen, for sampling. */
  readonly clientRecords = new ClientRecords();
  private readonly heartbeats: HeartbeatMonitor | undefined;

  private constructor(
    readonly config: ReturnType<typeof parseCoordinatorConfig>,
    readonly logger: Logger,
    readonly clock: Clock,
    evaluator: ServerEvaluator | undefined,
    lifecycle: ModelLifecycle | undefined,
    makeStrategy: (spec: JobSpec) => Strategy,
    private readonly http: FastifyInstance,
    private readonly io: SocketServer,
    readonly store: CoordinatorStore,
    private readonly ownsStore: boolean,
    hooks: CoordinatorHooks | undefined,
    readonly enrollments: ClientEnrollments,
    readonly apiAccess: ApiAccess,
  ) {
    this.attempts = new TokenBucketLimiter({
      burst: config.rateLimits.connectionBurst,
      perSecond: config.rateLimits.connectionsPerSecond,
      clock,
    });
    this.admission = new TransferAdmission(config.transferBudgetBytes ?? 2 * config.maxPayloadBytes);
    const timeoutMs = config.heartbeatTimeoutMs;
    this.heartbeats =
      timeoutMs === undefined
        ? undefined
        : new HeartbeatMonitor(
            this.clients,
            clock,
            { intervalMs: config.heartbeatIntervalMs, timeoutMs },
            (client) => this.evict(client),
          );
    const checkpoints = new CheckpointWriter(config.checkpointDir);
    this.feed = new JobFeed(store, logger);
    this.scheduler = new JobScheduler({
      store,
      checkpoints,
      clock,
      logger,
      maxPayloadBytes: config.maxPayloadBytes,
      makeStrategy,
      makeRunner: (job, strategy, resume) => {
        const jobLogger = logger.child({ jobId: job.id });
        return new JobRunner({
          job,
          spec: job.spec,
          strategy,
          clients: this.clients,
          clock,
          logger: jobLogger,
          maxPayloadBytes: config.maxPayloadBytes,
          records: this.clientRecords,
          store,
          checkpoints,
          evaluator,
          recorder: lifecycle ? new ModelRecorder(lifecycle, jobLogger) : undefined,
          resume,
          hooks,
          emit: (event) => this.emit(event),
        });
      },
      emit: (event) => this.emit(event),
    });
  }

  /** Every job this coordinator knows (stored ones included), by id. */
  get jobs(): ReadonlyMap<string, JobState> {
    return this.scheduler.jobs;
  }

  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const {
      logger: givenLogger,
      clock,
      evaluator,
      lifecycle,
      strategy,
      privacyRng,
      extraRoutes,
      store: givenStore,
      hooks,
      apiRoutes = [],
      ...configInput
    } = options;
    const config = parseCoordinatorConfig(configInput);
    const logger = givenLogger ?? pino({ name: 'fedlearn-coordinator' });
    const store =
      givenStore ??
      (await EmbeddedCoordinatorStore.open({
        dir: config.stateDir ?? join(config.checkpointDir, '.state'),
      }));
    const https = config.tls ? readTlsFiles(config.tls) : null;
    const theClock = clock ?? systemClock;
    const enrollments = await ClientEnrollments.open({ store, clock: theClock });
    const apiAccess = new ApiAccess([
      { token: config.apiToken, scope: 'admin' },
      ...(config.apiReadToken ? [{ token: config.apiReadToken, scope: 'read' as const }] : []),
    ]);
    const http = Fastify({
      // Request logs would drown the round logs; failures are logged by the error handler.
      loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }),
      ...(https ? { https } : {}),
      frameworkErrors,
      clientErrorHandler,
    }) as unknown as FastifyInstance;
    const io = new SocketServer(http.server, {
      maxHttpBufferSize: config.chunkBytes + 64 * 1024,
      pingInterval: config.pingIntervalMs,
      pingTimeout: config.pingTimeoutMs,
      serveClient: false,
      transports: ['websocket', 'polling'],
    });
    const coordinator = new Coordinator(
      config,
      logger,
      theClock,
      evaluator,
      lifecycle,
      (spec) => privateStrategy(strategy?.(spec) ?? createStrategy(spec.strategy), spec, privacyRng),
      http,
      io,
      store,
      givenStore === undefined,
      hooks,
      enrollments,
      apiAccess,
    );
    try {
      coordinator.attachSockets();
      coordinator.heartbeats?.start();
      await http.register(controlApi, { coordinator, extra: apiRoutes });
      if (extraRoutes) await http.register(extraRoutes);
      await http.listen({ host: config.host, port: config.port });
    } catch (error) {
      if (!givenStore) await store.close();
      throw error;
    }
    logger.info({ url: coordinator.url }, 'coordinator listening');
    await coordinator.scheduler.start();
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
    if (event.type === 'job_status') this.metrics.queueLength(this.scheduler.queue().length);
    this.feed.observe(event);
    for (const listener of this.listeners) listener(event);
  }

  /** Queues a job; it starts when the jobs before it have finished. */
  async submitJob(input: JobSpecInput, options: SubmitOptions = {}): Promise<JobState> {
    return (await this.submit(input, options)).job;
  }

  /** Like `submitJob`; `created` is false when the idempotency key returned an earlier job. */
  submit(input: JobSpecInput, options: SubmitOptions = {}): Promise<{ job: JobState; created: boolean }> {
    const enrolled = withEnrolledIdentities(input, this.enrollments, this.config.clientAuth === 'enrolled');
    return this.scheduler.submit(enrolled, options);
  }

  cancelJob(id: string): Promise<JobState> {
    return this.scheduler.cancel(id);
  }

  pauseJob(id: string): Promise<JobState> {
    return this.scheduler.pause(id);
  }

  resumeJob(id: string): Promise<JobState> {
    return this.scheduler.resume(id);
  }

  /** Queued jobs in the order they will run. */
  queue(): JobState[] {
    return this.scheduler.queue();
  }

  /**
   * A job's current global model: the checkpoint of its last completed round (round 0, the initial
   * model, while the first round of the running job is in flight); undefined before it has one.
   */
  async currentModel(id: string): Promise<{ round: number; params: ModelParams } | undefined> {
    const job = this.scheduler.get(id);
    const stored = await this.scheduler.storedModel(id);
    if (stored) return stored;
    // Before its first round completes, a running job's model is its initial one (round 0).
    const params = this.scheduler.current?.id === job.id ? this.scheduler.current.currentParams() : undefined;
    return params && { round: 0, params };
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
    return this.scheduler.current?.artifacts();
  }

  /**
   * Stops serving. The running job is not finished: it stays `running` in the store and resumes
   * from its last completed round when a coordinator starts on the same store.
   */
  async stop(): Promise<void> {
    this.heartbeats?.stop();
    await this.scheduler.stop();
    for (const connection of this.connections) connection.disconnect();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    await this.http.close().catch(() => undefined);
    await this.feed.flushed();
    if (this.ownsStore) await this.store.close();
  }

  private attachSockets(): void {
    this.io.use(connectionRateLimit(this.attempts, this.logger));
    this.io.use(clientTokenGuard(this.config.clientToken, this.logger));
    this.enrollments.onRevoked((clientId) => this.cutOff(clientId));
    this.io.on('connection', (socket) => {
      const connection = new ClientConnection(socket, {
        maxPayloadBytes: this.config.maxPayloadBytes,
        chunkBytes: this.config.chunkBytes,
        transferWindow: this.config.transferWindow,
        admit: (size, grant) => this.admission.admit(size, grant),
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
          if (type === 'get_parameters_res')
            return this.scheduler.current?.onParameters(conn.clientId!, undefined);
          if (typeof jobId !== 'string' || typeof round !== 'number') return;
          this.scheduler.current?.onClientError(conn.clientId!, jobId, round);
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

  /** A client silent past the heartbeat timeout leaves its round now; it may reconnect and say hello. */
  private evict(client: RegisteredClient): void {
    const { connection, info } = client;
    if (this.clients.remove(connection) === undefined) return;
    const silentMs = this.clock.now() - client.lastSeen;
    connection.refuse(
      new FedlearnError('HEARTBEAT_MISSED', `nothing received from ${info.clientId} for ${silentMs} ms`),
    );
    setImmediate(() => connection.disconnect());
    this.clientLeft(info.clientId, 'missed heartbeats');
  }

  private clientLeft(clientId: string, reason: string): void {
    this.logger.info({ clientId, reason }, 'client left');
    this.scheduler.current?.clientLeft(clientId);
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
        if (!this.scheduler.current) {
          return connection.refuse(
            new FedlearnError('STALE_ROUND', 'no job is running', { details: { currentRound: null } }),
            message.type,
            { jobId: message.jobId, round: message.round },
          );
        }
        return this.scheduler.current.handle(client, message);
      case 'get_parameters_res':
        return this.scheduler.current?.onParameters(client.info.clientId, message);
      case 'client_error':
        this.logger.warn(
          { clientId: client.info.clientId, ...message.error, round: message.round },
          'client reported an error',
        );
        return this.scheduler.current?.onClientError(client.info.clientId, message.jobId, message.round);
    }
  }

  /** A revoked client is dropped from the registry (and its round) at once, then disconnected. */
  private cutOff(clientId: string): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    this.clients.remove(client.connection);
    this.clientLeft(clientId, 'revoked');
    client.connection.refuse(
      new FedlearnError('CLIENT_REVOKED', `client ${clientId} was revoked`),
      undefined,
      {},
      true,
    );
  }

  private onHello(connection: ClientConnection, hello: Extract<ClientMessage, { type: 'hello' }>): void {
    if (!this.attempts.take(connection.socket.handshake.address)) {
      // Not fatal: the client comes back after its backoff, when the bucket has refilled.
      connection.refuse(
        new FedlearnError('RATE_LIMITED', 'too many connection attempts from this address; retry later'),
        'hello',
      );
      setImmediate(() => connection.disconnect());
      return;
    }
    try {
      assertCompatibleProtocol(hello.protocolVersion);
    } catch (error) {
      return connection.refuse(toFedlearnError(error), 'hello', {}, true);
    }
    // Refused before registering: a hello that does not prove its id displaces nobody. An
    // enrolled id must be proven in token mode too, so enrolling a client protects it there.
    if (this.config.clientAuth === 'enrolled' || this.enrollments.get(hello.clientId)) {
      const verdict = this.enrollments.verify(hello.clientId, hello.credential);
      if (!verdict.ok) return connection.refuse(verdict.error, 'hello', {}, true);
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
      this.scheduler.current?.clientLeft(hello.clientId);
    }
    const transfer = connection.negotiate(hello.transfer);
    connection.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      serverId: this.config.serverId,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      ...(transfer ? { transfer } : {}),
    });
    this.logger.info(
      { clientId: hello.clientId, examples: hello.numExamples, backend: hello.capabilities.backend },
      'client joined',
    );
    this.emit({ type: 'client_joined', clientId: hello.clientId, connected: this.clients.size });
  }
}

/** Reads the certificate and key; a missing or unreadable file is a config error naming the field. */
function readTlsFiles(tls: { key: string; cert: string }): { key: Buffer; cert: Buffer } {
  const read = (field: 'key' | 'cert') => {
    try {
      return readFileSync(tls[field]);
    } catch (error) {
      throw new FedlearnError('INVALID_CONFIG', `cannot read the TLS ${field} file (tls.${field})`, {
        cause: error,
      });
    }
  };
  return { key: read('key'), cert: read('cert') };
}
