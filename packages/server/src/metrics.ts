import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CoordinatorEvent } from './events.js';

/** Prometheus metrics of one coordinator, fed from its events (docs/observability.md lists them). */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly connected = new Gauge({
    name: 'fedlearn_clients_connected',
    help: 'Clients that have said hello',
    registers: [this.registry],
  });
  private readonly rounds = new Counter({
    name: 'fedlearn_rounds_total',
    help: 'Rounds finished, by status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly roundsStarted = new Counter({
    name: 'fedlearn_rounds_started_total',
    help: 'Rounds started (a round restarted after a crash or pause counts again)',
    registers: [this.registry],
  });
  private readonly updates = new Counter({
    name: 'fedlearn_updates_total',
    help: 'Client updates folded into a model',
    registers: [this.registry],
  });
  private readonly roundSeconds = new Histogram({
    name: 'fedlearn_round_duration_seconds',
    help: 'Wall time of a round',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly stageSeconds = new Histogram({
    name: 'fedlearn_round_stage_seconds',
    help: 'Wall time of each stage of a round (training, evaluation, checkpoint)',
    labelNames: ['stage'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly aggregationSeconds = new Histogram({
    name: 'fedlearn_aggregation_seconds',
    help: "Coordinator CPU time spent folding a round's updates into the new model",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  });
  private readonly participants = new Gauge({
    name: 'fedlearn_round_participants',
    help: 'Clients whose update made it into the newest round, and clients sampled for it',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly dropouts = new Counter({
    name: 'fedlearn_client_dropouts_total',
    help: 'Sampled clients that did not deliver, by reason (disconnected, timed_out, failed)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly bytes = new Counter({
    name: 'fedlearn_model_bytes_total',
    help: 'Model bytes moved, by direction',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  private readonly accuracy = new Gauge({
    name: 'fedlearn_global_model_accuracy',
    help: 'Accuracy of the newest global model',
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'fedlearn_errors_total',
    help: 'Typed errors, by code (failed rounds and jobs, refused API requests)',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly queued = new Gauge({
    name: 'fedlearn_jobs_queued',
    help: 'Jobs waiting in the queue',
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: 'fedlearn_jobs_finished_total',
    help: 'Jobs finished, by status',
    labelNames: ['status'],
    registers: [this.registry],
  });

  observe(event: CoordinatorEvent): void {
    switch (event.type) {
      case 'client_joined':
      case 'client_left':
        this.connected.set(event.connected);
        return;
      case 'fit_received':
        this.updates.inc();
        return;
      case 'round_started':
        this.roundsStarted.inc();
        return;
      case 'round_completed': {
        const s = event.summary;
        this.rounds.inc({ status: s.status });
        this.roundSeconds.observe(s.seconds);
        for (const [stage, seconds] of Object.entries(s.stageSeconds ?? {})) {
          this.stageSeconds.observe({ stage }, seconds);
        }
        if (s.aggregationSeconds !== undefined) this.aggregationSeconds.observe(s.aggregationSeconds);
        this.participants.set({ kind: 'completed' }, s.completed);
        this.participants.set({ kind: 'sampled' }, s.sampled);
        this.dropouts.inc({ reason: 'disconnected' }, s.dropped);
        this.dropouts.inc({ reason: 'timed_out' }, s.timedOut);
        this.dropouts.inc({ reason: 'failed' }, s.failed);
        this.bytes.inc({ direction: 'up' }, s.bytesUp);
        this.bytes.inc({ direction: 'down' }, s.bytesDown);
        if (typeof s.accuracy === 'number') this.accuracy.set(s.accuracy);
        if (s.error) this.error(s.error.code);
        return;
      }
      case 'job_finished':
        this.jobs.inc({ status: event.job.status });
        if (event.job.error) this.error(event.job.error.code);
        return;
      default:
    }
  }

  /** Counts one typed error. */
  error(code: string): void {
    this.errors.inc({ code });
  }

  queueLength(length: number): void {
    this.queued.set(length);
  }
}
