import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CoordinatorEvent } from './events.js';

/** Prometheus metrics of one coordinator, fed from its events. */
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

  observe(event: CoordinatorEvent): void {
    switch (event.type) {
      case 'client_joined':
      case 'client_left':
        this.connected.set(event.connected);
        return;
      case 'fit_received':
        this.updates.inc();
        return;
      case 'round_completed': {
        const s = event.summary;
        this.rounds.inc({ status: s.status });
        this.roundSeconds.observe(s.seconds);
        this.bytes.inc({ direction: 'up' }, s.bytesUp);
        this.bytes.inc({ direction: 'down' }, s.bytesDown);
        if (typeof s.accuracy === 'number') this.accuracy.set(s.accuracy);
        return;
      }
      default:
    }
  }
}
