/** Repeats a task; injected so tests trigger polls themselves. */
export interface IntervalTimer {
  every(intervalMs: number, task: () => void): () => void;
}

export const systemIntervalTimer: IntervalTimer = {
  every(intervalMs, task) {
    const handle = setInterval(task, intervalMs);
    handle.unref();
    return () => clearInterval(handle);
  },
};

/**
 * Polls the registry for alias moves every `intervalMs` (MLflow has no push notification).
 * Returns a stop function.
 */
export function watchAliases(
  catalog: { refresh(): Promise<void> },
  intervalMs: number,
  timer: IntervalTimer = systemIntervalTimer,
): () => void {
  return timer.every(intervalMs, () => {
    // refresh logs its own failures; the old version keeps serving.
    void catalog.refresh().catch(() => undefined);
  });
}
