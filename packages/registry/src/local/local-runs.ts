import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { JobInfo } from '../types.js';
import { appendJsonLine, localFsError, readJson, readJsonLines, writeJsonAtomic } from './fs-json.js';

const runSchema = z.object({
  runId: z.string(),
  jobId: z.string(),
  modelName: z.string(),
  status: z.string(),
  startTime: z.number(),
  endTime: z.number().optional(),
  params: z.record(z.string(), z.string()),
});
const metricSchema = z.object({
  key: z.string(),
  value: z.number(),
  timestamp: z.number(),
  step: z.number(),
});

/** Experiment runs of the embedded default: `<home>/runs/<runId>/run.json` and `metrics.jsonl`. */
export class LocalRunLog {
  private readonly root: string;

  constructor(home: string) {
    this.root = join(resolve(home), 'runs');
  }

  async start(job: JobInfo, params: Record<string, string>, startTime: number): Promise<string> {
    const runId = randomUUID().replace(/-/g, '');
    await mkdir(join(this.root, runId), { recursive: true }).catch((cause: unknown) => {
      throw localFsError(cause, `create run folder under ${this.root}`);
    });
    await writeJsonAtomic(join(this.root, runId, 'run.json'), {
      runId,
      jobId: job.jobId,
      modelName: job.modelName,
      status: 'RUNNING',
      startTime,
      params,
    });
    return runId;
  }

  async logMetrics(runId: string, metrics: z.infer<typeof metricSchema>[]): Promise<void> {
    for (const m of metrics) await appendJsonLine(join(this.root, runId, 'metrics.jsonl'), m);
  }

  async finish(runId: string, status: string, endTime: number): Promise<void> {
    const path = join(this.root, runId, 'run.json');
    const run = await readJson(path, runSchema);
    if (run) await writeJsonAtomic(path, { ...run, status, endTime });
  }

  async setStatus(runId: string, status: string): Promise<void> {
    const path = join(this.root, runId, 'run.json');
    const run = await readJson(path, runSchema);
    if (run) await writeJsonAtomic(path, { ...run, status });
  }

  async get(runId: string) {
    if (!/^[0-9a-f]{32}$/.test(runId)) return { run: undefined, metrics: [] };
    return {
      run: await readJson(join(this.root, runId, 'run.json'), runSchema),
      metrics: await readJsonLines(join(this.root, runId, 'metrics.jsonl'), metricSchema),
    };
  }
}
