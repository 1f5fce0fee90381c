/** When a batch runs: injected so that tests decide, not the machine's speed. */
export interface BatchScheduler {
  /** Runs `task` after `delayMs` (0: at the end of this turn of the event loop); returns a cancel. */
  schedule(task: () => void, delayMs: number): () => void;
  now(): number;
}

export const systemBatchScheduler: BatchScheduler = {
  schedule(task, delayMs) {
    if (delayMs <= 0) {
      const handle = setImmediate(task);
      return () => clearImmediate(handle);
    }
    const handle = setTimeout(task, delayMs);
    return () => clearTimeout(handle);
  },
  now: () => Date.now(),
};
