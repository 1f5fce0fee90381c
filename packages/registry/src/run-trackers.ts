import { type Clock, FedlearnError } from '@fedlearn/core';
import { LocalRunLog } from './local/local-runs.js';
import type { MlflowHttp } from './mlflow/http.js';
import { MlflowTracking, type RunStatus } from './mlflow/tracking.js';
import type { JobInfo, RoundMetrics } from './types.js';

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** Where a job's run, params and per-round metrics are recorded (MLflow or the local run log). */
export interface RunTracker {
  start(job: JobInfo, params: Record<string, string>): Promise<string>;
  /** Reopens a run after a restart; returns the metrics logged so far. */
  resume(runId: string): Promise<MetricPoint[]>;
  log(runId: string, metrics: MetricPoint[]): Promise<void>;
  finish(runId: string, status: RunStatus): Promise<void>;
}

/** Groups metric points by round (`step`), oldest first, for the model card. */
export function historyFrom(points: readonly MetricPoint[]): RoundMetrics[] {
  const byRound = new Map<number, Record<string, number>>();
  for (const p of [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)) {
    byRound.set(p.step, { ...byRound.get(p.step), [p.key]: p.value });
  }
  return [...byRound].map(([round, metrics]) => ({ round, metrics }));
}

export function mlflowRunTracker(
  http: MlflowHttp,
  experimentName: string,
  clock: Pick<Clock, 'now'>,
): RunTracker {
  const tracking = new MlflowTracking(http);
  return {
    async start(job, params) {
      const experimentId = await tracking.getOrCreateExperiment(experimentName);
      const info = await tracking.createRun(experimentId, job.jobId, clock.now(), {
        'mlflow.runName': job.jobId,
        'mlflow.source.name': 'fedlearn',
        'fedlearn.job_id': job.jobId,
      });
      await tracking.logBatch(info.run_id, { params });
      return info.run_id;
    },
    async resume(runId) {
      const { metricKeys } = await tracking.getRunWithMetricKeys(runId);
      const points: MetricPoint[] = [];
      for (const key of metricKeys) points.push(...(await tracking.metricHistory(runId, key)));
      await tracking.updateRun(runId, 'RUNNING');
      return points;
    },
    log: (runId, metrics) => tracking.logBatch(runId, { metrics }),
    finish: (runId, status) => tracking.updateRun(runId, status, clock.now()),
  };
}

export function localRunTracker(home: string, clock: Pick<Clock, 'now'>): RunTracker {
  const runs = new LocalRunLog(home);
  return {
    start: (job, params) => runs.start(job, params, clock.now()),
    async resume(runId) {
      const { run, metrics } = await runs.get(runId);
      if (!run)
        throw new FedlearnError('REGISTRY_NOT_FOUND', `no run ${runId} under ${home}`, {
          details: { runId },
        });
      await runs.setStatus(runId, 'RUNNING');
      return metrics;
    },
    log: (runId, metrics) => runs.logMetrics(runId, metrics),
    finish: (runId, status) => runs.finish(runId, status, clock.now()),
  };
}
