import { FedlearnError } from '@fedlearn/core';
import { type BatchScheduler, systemBatchScheduler } from './scheduler.js';

export interface BatchingOptions {
  /** Off: every request runs alone (the baseline the benchmark compares against). */
  enabled: boolean;
  /** Rows per model execution at most (a larger single request still runs, alone). */
  maxBatchSize: number;
  /** How long the first queued request waits for company; 0 = until the end of this event-loop turn. */
  maxQueueDelayMs: number;
  /** Rows waiting at most; beyond, requests are refused with SERVING_QUEUE_FULL. */
  maxQueueRows: number;
}

export const DEFAULT_BATCHING: BatchingOptions = {
  enabled: true,
  maxBatchSize: 64,
  maxQueueDelayMs: 0,
  maxQueueRows: 4096,
};

/** Runs the model on `rows` instances laid out row-major in `input`; returns outputs row-major. */
export type BatchExecutor = (input: Float32Array, rows: number) => Float32Array;

interface Pending {
  input: Float32Array;
  rows: number;
  deadline: number | undefined;
  resolve(output: Float32Array): void;
  reject(error: unknown): void;
}

export interface BatcherHooks {
  onBatch?(rows: number): void;
  onQueueDepth?(rows: number): void;
}

/**
 * Merges concurrent requests for one model version into one execution and splits the result back
 * by row offsets. The queue is bounded in rows; an expired request is refused before it runs.
 */
export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private queuedRows = 0;
  private cancelFlush: (() => void) | undefined;
  private flushIsImmediate = false;

  constructor(
    private readonly execute: BatchExecutor,
    private readonly options: BatchingOptions,
    private readonly scheduler: BatchScheduler = systemBatchScheduler,
    private readonly hooks: BatcherHooks = {},
  ) {}

  get depth(): number {
    return this.queuedRows;
  }

  /** Queues `rows` instances; resolves with exactly their output rows. */
  submit(input: Float32Array, rows: number, deadline?: number): Promise<Float32Array> {
    if (this.queuedRows + rows > this.options.maxQueueRows) {
      return Promise.reject(
        new FedlearnError('SERVING_QUEUE_FULL', 'the prediction queue is full; retry later', {
          details: { queuedRows: this.queuedRows, maxQueueRows: this.options.maxQueueRows },
        }),
      );
    }
    return new Promise<Float32Array>((resolve, reject) => {
      this.queue.push({ input, rows, deadline, resolve, reject });
      this.queuedRows += rows;
      this.hooks.onQueueDepth?.(this.queuedRows);
      const full = !this.options.enabled || this.queuedRows >= this.options.maxBatchSize;
      if (this.cancelFlush && (this.flushIsImmediate || !full)) return;
      this.cancelFlush?.();
      const delay = full ? 0 : this.options.maxQueueDelayMs;
      this.flushIsImmediate = delay <= 0;
      this.cancelFlush = this.scheduler.schedule(() => this.flush(), delay);
    });
  }

  /** Runs everything queued now, in batches of at most `maxBatchSize` rows. */
  flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    while (this.queue.length > 0) this.runOneBatch();
    this.hooks.onQueueDepth?.(0);
  }

  private takeBatch(): Pending[] {
    const limit = this.options.enabled ? this.options.maxBatchSize : 1;
    const batch: Pending[] = [];
    let rows = 0;
    const now = this.scheduler.now();
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && rows + next.rows > limit) break;
      this.queue.shift();
      this.queuedRows -= next.rows;
      if (next.deadline !== undefined && now > next.deadline) {
        next.reject(
          new FedlearnError('DEADLINE_EXCEEDED', 'the request deadline passed before the model ran'),
        );
        continue;
      }
      batch.push(next);
      rows += next.rows;
    }
    return batch;
  }

  private runOneBatch(): void {
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    const rows = batch.reduce((n, p) => n + p.rows, 0);
    let input: Float32Array;
    if (batch.length === 1) input = batch[0]!.input;
    else {
      input = new Float32Array(batch.reduce((n, p) => n + p.input.length, 0));
      let offset = 0;
      for (const p of batch) {
        input.set(p.input, offset);
        offset += p.input.length;
      }
    }
    let output: Float32Array;
    try {
      output = this.execute(input, rows);
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    this.hooks.onBatch?.(rows);
    const width = output.length / rows;
    let row = 0;
    for (const p of batch) {
      p.resolve(output.slice(row * width, (row + p.rows) * width));
      row += p.rows;
    }
  }
}
