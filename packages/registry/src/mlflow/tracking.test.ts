import { isFedlearnError } from '@fedlearn/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MlflowStandIn, startMlflowStandIn } from '../testing/index.js';
import { MlflowHttp } from './http.js';
import { MlflowTracking } from './tracking.js';

let mlflow: MlflowStandIn;
let http: MlflowHttp;
let tracking: MlflowTracking;

beforeEach(async () => {
  mlflow = await startMlflowStandIn();
  http = new MlflowHttp({ trackingUri: mlflow.url, maxRetries: 0 });
  tracking = new MlflowTracking(http);
});
afterEach(async () => {
  await http.close();
  await mlflow.close();
});

describe('MlflowTracking against the MLflow REST stand-in', () => {
  it('splits log-batch so no request exceeds 1000 metrics, 100 params or 1000 entities in total', async () => {
    const run = await tracking.createRun('0', 'big', 1, {});
    const metrics = Array.from({ length: 1950 }, (_, i) => ({
      key: 'loss',
      value: i / 1000,
      timestamp: 1_700_000_000_000 + i,
      step: i,
    }));
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, String(i)]));
    await tracking.logBatch(run.run_id, { metrics, params });

    const stored = mlflow.state.run(run.run_id);
    expect(stored.metrics).toHaveLength(1950);
    expect(stored.params).toHaveLength(150);
    // 100 params + 900 metrics, 50 params + 950 metrics, then the last 100 metrics
    expect(mlflow.requests.filter((r) => r.path.endsWith('/runs/log-batch'))).toHaveLength(3);
  });

  it('reads a metric history across pages (next_page_token)', async () => {
    const run = await tracking.createRun('0', 'paged', 1, {});
    const metrics = Array.from({ length: 5 }, (_, i) => ({ key: 'acc', value: i, timestamp: 1, step: i }));
    await tracking.logBatch(run.run_id, { metrics });
    const history = await tracking.metricHistory(run.run_id, 'acc', 2);
    expect(history.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
    expect(mlflow.requests.filter((r) => r.path.endsWith('/metrics/get-history'))).toHaveLength(3);
  });

  it('the stand-in refuses a log-batch over the total like MLflow (400 INVALID_PARAMETER_VALUE)', async () => {
    const run = await tracking.createRun('0', 'over', 1, {});
    const error = await http
      .call('POST', 'runs/log-batch', {
        run_id: run.run_id,
        metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'm', value: 1, timestamp: 1, step: i })),
        params: [{ key: 'p', value: 'v' }],
      })
      .catch((e: unknown) => e);
    expect(isFedlearnError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('at most 1000 metrics, params, and tags');
  });
});
