import type { Clock, TimerHandle } from '@fedlearn/core';

export type PhaseKind = 'fit' | 'evaluate';

/**
 * One phase of a round (fit or evaluate): the clients it waits for, and how each one ended.
 * It closes when every client has answered, failed or dropped, or when its deadline passes.
 */
export class Phase<Result> {
  readonly pending: Set<string>;
  readonly results = new Map<string, Result>();
  readonly failed = new Set<string>();
  readonly dropped = new Set<string>();
  readonly deadline: number;
  private timer: TimerHandle | undefined;
  private resolveClosed!: () => void;
  private isClosed = false;
  readonly closed: Promise<void>;
  /** Close as soon as this many results arrived (over-selection); undefined: wait for every client. */
  closeAt: number | undefined;

  constructor(
    readonly kind: PhaseKind,
    readonly jobId: string,
    readonly round: number,
    clients: readonly string[],
    timeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.pending = new Set(clients);
    this.deadline = clock.now() + timeoutMs;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.timer = clock.setTimeout(() => this.close(), timeoutMs);
    if (this.pending.size === 0) this.close();
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Clients that were still pending when the deadline passed. */
  get timedOut(): string[] {
    return this.isClosed && !this.reachedQuorum ? [...this.pending] : [];
  }

  /** Whether the phase closed because `closeAt` results arrived, leaving the rest unneeded. */
  get reachedQuorum(): boolean {
    return this.closeAt !== undefined && this.results.size >= this.closeAt;
  }

  succeed(clientId: string, result: Result): void {
    this.results.set(clientId, result);
    this.settle(clientId);
    if (this.reachedQuorum) this.close();
  }

  fail(clientId: string): void {
    this.failed.add(clientId);
    this.settle(clientId);
  }

  drop(clientId: string): void {
    if (!this.pending.has(clientId)) return;
    this.dropped.add(clientId);
    this.settle(clientId);
  }

  /** A client reported (or caused) an error for `jobId`/`round`: it fails here if this phase awaits it. */
  clientError(clientId: string, jobId: string | undefined, round: number | undefined): void {
    if (this.isOpen && this.jobId === jobId && this.round === round && this.pending.has(clientId)) {
      this.fail(clientId);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.resolveClosed();
  }

  private settle(clientId: string): void {
    this.pending.delete(clientId);
    if (this.pending.size === 0) this.close();
  }
}
