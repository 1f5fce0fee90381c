import { isFedlearnError } from '@fedlearn/core';
import type { MlflowHttp } from './http.js';
import { getAllPages } from './paging.js';
import {
  expectShape,
  experimentSchema,
  metricSchema,
  recordToTags,
  runSchema,
  runWithDataSchema,
} from './schemas.js';

/** How a job's run ended (MLflow's terminal `RunStatus` values). */
export type RunStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/** MLflow's log-batch limits per request (`mlflow/utils/validation.py`): each kind and the total. */
const MAX_METRICS = 1000;
const MAX_PARAMS = 100;
const MAX_ENTITIES = 1000;

/** Experiments and runs of MLflow's tracking API. */
export class MlflowTracking {
  constructor(private readonly http: MlflowHttp) {}

  /** Gets the experiment by name, creating it when absent (and tolerating a racing creator). */
  async getOrCreateExperiment(name: string): Promise<string> {
    try {
      const found = await this.http.call('GET', 'experiments/get-by-name', { experiment_name: name });
      return expectShape(experimentSchema, found, 'experiments/get-by-name').experiment.experiment_id;
    } catch (error) {
      if (!isFedlearnError(error, 'REGISTRY_NOT_FOUND')) throw error;
    }
    try {
      const created = await this.http.call<{ experiment_id?: string }>('POST', 'experiments/create', {
        name,
      });
      if (typeof created.experiment_id === 'string') return created.experiment_id;
    } catch (error) {
      if (!isFedlearnError(error, 'REGISTRY_CONFLICT')) throw error;
    }
    const found = await this.http.call('GET', 'experiments/get-by-name', { experiment_name: name });
    return expectShape(experimentSchema, found, 'experiments/get-by-name').experiment.experiment_id;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: Record<string, string>) {
    const res = await this.http.call('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: startTime,
      tags: recordToTags(tags),
    });
    return expectShape(runSchema, res, 'runs/create').run.info;
  }

  /** A run's info and the keys of the metrics it logged. */
  async getRunWithMetricKeys(runId: string) {
    const res = expectShape(
      runWithDataSchema,
      await this.http.call('GET', 'runs/get', { run_id: runId }),
      'runs/get',
    );
    return { info: res.run.info, metricKeys: [...new Set(res.run.data.metrics.map((m) => m.key))] };
  }

  /** Every logged value of one metric (MLflow's `metrics/get-history`, all pages). */
  metricHistory(runId: string, key: string, pageSize = 25_000) {
    return getAllPages(this.http, 'metrics/get-history', 'metrics', metricSchema, {
      run_id: runId,
      metric_key: key,
      max_results: pageSize,
    });
  }

  async getRun(runId: string) {
    return expectShape(runSchema, await this.http.call('GET', 'runs/get', { run_id: runId }), 'runs/get').run
      .info;
  }

  /** Logs params and metrics (`step` = round), split to respect MLflow's batch limits. */
  async logBatch(
    runId: string,
    batch: {
      metrics?: { key: string; value: number; timestamp: number; step: number }[];
      params?: Record<string, string>;
    },
  ): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = recordToTags(batch.params ?? {});
    let m = 0;
    let p = 0;
    while (m < metrics.length || p < params.length) {
      const paramCount = Math.min(MAX_PARAMS, params.length - p);
      const metricCount = Math.min(MAX_METRICS, MAX_ENTITIES - paramCount, metrics.length - m);
      await this.http.call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: metrics.slice(m, m + metricCount),
        params: params.slice(p, p + paramCount),
        tags: [],
      });
      m += metricCount;
      p += paramCount;
    }
  }

  /** Ends a run (`end_time` in ms), or with `RUNNING` and no end time reopens it after a restart. */
  async updateRun(runId: string, status: RunStatus | 'RUNNING', endTime?: number): Promise<void> {
    await this.http.call('POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }
}
