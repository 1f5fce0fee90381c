import type { Clock, TimerHandle } from '@fedlearn/core';
import type { ClientRegistry, RegisteredClient } from '../client-registry.js';

/**
 * Evicts clients that went silent: every `intervalMs` it looks for registered clients that sent
 * nothing (a heartbeat is enough) for `timeoutMs`, and hands each to `evict`. A dead peer that
 * TCP has not noticed yet then leaves its round at once instead of holding it to its deadline.
 */
export class HeartbeatMonitor {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clients: ClientRegistry,
    private readonly clock: Clock,
    private readonly options: { intervalMs: number; timeoutMs: number },
    private readonly evict: (client: RegisteredClient) => void,
  ) {}

  start(): void {
    this.stop();
    this.timer = this.clock.setTimeout(() => {
      this.sweep();
      this.start();
    }, this.options.intervalMs);
  }

  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Evicts every client silent for longer than the timeout; returns their ids. */
  sweep(): string[] {
    const now = this.clock.now();
    const silent = this.clients.silentSince(now - this.options.timeoutMs);
    for (const client of silent) this.evict(client);
    return silent.map((c) => c.info.clientId);
  }
}
