import { posix } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  type Body,
  maxResultsAtMost,
  message,
  metrics,
  nameFilter,
  page,
  RUN_STATUSES,
  required,
  tags,
  versionParam,
  withoutEmpty,
} from './mlflow-standin-request.js';
import { invalid, type Metric, MlflowApiError, type StandInState } from './mlflow-standin-state.js';

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

/**
 * Registers MLflow's tracking, registry and artifact-proxy routes the stand-in reproduces, and
 * returns their paths (Flask answers another method on a known path with 405, not 404).
 */
export function registerStandInRoutes(
  app: FastifyInstance,
  state: StandInState,
  options: { proxyArtifacts: boolean },
): (path: string) => boolean {
  const known = new Set<string>(['/health', '/version', ARTIFACTS]);
  const json = (reply: FastifyReply, value: unknown) => reply.type('application/json').send(value);
  const route = (method: 'GET' | 'POST' | 'DELETE', endpoint: string, handler: (body: Body) => unknown) => {
    known.add(`${API}/${endpoint}`);
    app.route({
      method,
      url: `${API}/${endpoint}`,
      handler: async (request, reply) => json(reply, handler(message(request))),
    });
  };

  app.get('/health', async (_req, reply) => reply.type('text/plain').send('OK'));
  app.get('/version', async (_req, reply) => reply.type('text/plain').send('stand-in'));

  route('GET', 'experiments/get-by-name', (b) => ({
    experiment: withoutEmpty(state.experimentByName(required(b, 'experiment_name'))),
  }));
  route('GET', 'experiments/get', (b) => ({
    experiment: withoutEmpty(state.experiment(required(b, 'experiment_id'))),
  }));
  route('POST', 'experiments/create', (b) => ({
    experiment_id: state.createExperiment(required(b, 'name'), b['artifact_location'] as string | undefined),
  }));

  route('POST', 'runs/create', (b) => {
    const run = state.createRun(
      String(b['experiment_id'] ?? '0'),
      String(b['run_name'] ?? ''),
      Number(b['start_time'] ?? 0),
      tags(b['tags']),
    );
    return { run: { info: run.info, data: withoutEmpty({ tags: run.tags }), inputs: {} } };
  });
  route('GET', 'runs/get', (b) => {
    const run = state.run(required(b, 'run_id'));
    const latest = new Map<string, Metric>();
    for (const m of run.metrics) if ((latest.get(m.key)?.step ?? -Infinity) <= m.step) latest.set(m.key, m);
    return {
      run: {
        info: run.info,
        data: withoutEmpty({ metrics: [...latest.values()], params: run.params, tags: run.tags }),
        inputs: {},
      },
    };
  });
  route('POST', 'runs/update', (b) => {
    const run = state.run(required(b, 'run_id'));
    if (b['status'] !== undefined) {
      if (typeof b['status'] !== 'string' || !RUN_STATUSES.has(b['status']))
        throw invalid(`Invalid value ${JSON.stringify(b['status'])} for parameter 'status' supplied.`);
      run.info.status = b['status'];
    }
    if (typeof b['run_name'] === 'string' && b['run_name']) {
      run.info.run_name = b['run_name'];
      run.tags = [
        ...run.tags.filter((t) => t.key !== 'mlflow.runName'),
        { key: 'mlflow.runName', value: b['run_name'] },
      ];
    }
    if (b['end_time'] !== undefined) run.info.end_time = Number(b['end_time']);
    return { run_info: run.info };
  });
  route('POST', 'runs/log-batch', (b) => {
    state.logBatch(required(b, 'run_id'), metrics(b['metrics']), tags(b['params']), tags(b['tags']));
    return {};
  });
  route('GET', 'metrics/get-history', (b) => {
    const run = state.run(required(b, 'run_id'));
    const key = required(b, 'metric_key');
    const all = run.metrics.filter((m) => m.key === key);
    const { items, next } = page(all, { ...b, max_results: b['max_results'] ?? all.length });
    return { ...(items.length ? { metrics: items } : {}), ...(next ? { next_page_token: next } : {}) };
  });

  route('POST', 'registered-models/create', (b) => ({
    registered_model: state.renderModel(
      state.createRegisteredModel(required(b, 'name'), tags(b['tags']), String(b['description'] ?? '')),
    ),
  }));
  route('GET', 'registered-models/get', (b) => ({
    registered_model: state.renderModel(state.registeredModel(required(b, 'name'))),
  }));
  route('GET', 'registered-models/search', (b) => {
    maxResultsAtMost(b, 1000);
    const name = nameFilter(b);
    const all = [...state.registeredModels.values()]
      .filter((m) => name === undefined || m.name === name)
      .sort((x, y) => (x.name < y.name ? -1 : 1));
    const { items, next } = page(all, b);
    return {
      ...(items.length ? { registered_models: items.map((m) => state.renderModel(m)) } : {}),
      ...(next ? { next_page_token: next } : {}),
    };
  });
  route('POST', 'registered-models/set-tag', (b) => {
    state.registeredModel(required(b, 'name')).tags.set(required(b, 'key'), String(b['value'] ?? ''));
    return {};
  });
  route('POST', 'registered-models/alias', (b) => {
    state.setAlias(required(b, 'name'), required(b, 'alias'), versionParam(b));
    return {};
  });
  route('DELETE', 'registered-models/alias', (b) => {
    state.registeredModel(required(b, 'name')).aliases.delete(required(b, 'alias'));
    return {};
  });
  route('GET', 'registered-models/alias', (b) => ({
    model_version: state.renderVersion(state.versionByAlias(required(b, 'name'), required(b, 'alias')), {
      withAliases: true,
    }),
  }));

  route('POST', 'model-versions/create', (b) => ({
    model_version: state.renderVersion(
      state.createModelVersion(
        required(b, 'name'),
        required(b, 'source'),
        String(b['run_id'] ?? ''),
        tags(b['tags']),
        String(b['description'] ?? ''),
      ),
      { withAliases: false },
    ),
  }));
  route('GET', 'model-versions/get', (b) => ({
    model_version: state.renderVersion(state.modelVersion(required(b, 'name'), versionParam(b)), {
      withAliases: true,
    }),
  }));
  route('GET', 'model-versions/search', (b) => {
    maxResultsAtMost(b, 200_000);
    const name = nameFilter(b);
    // MLflow's natural order: name ascending, then version descending (newest first).
    const all = [...state.registeredModels.values()]
      .filter((m) => name === undefined || m.name === name)
      .sort((x, y) => (x.name < y.name ? -1 : 1))
      .flatMap((m) => [...m.versions].reverse());
    const { items, next } = page(all, { ...b, max_results: b['max_results'] ?? 10000 });
    return {
      ...(items.length
        ? { model_versions: items.map((v) => state.renderVersion(v, { withAliases: false })) }
        : {}),
      ...(next ? { next_page_token: next } : {}),
    };
  });
  route('POST', 'model-versions/set-tag', (b) => {
    const v = state.modelVersion(required(b, 'name'), versionParam(b));
    v.tags = [
      ...v.tags.filter((t) => t.key !== b['key']),
      { key: required(b, 'key'), value: String(b['value'] ?? '') },
    ];
    return {};
  });

  const disabled = (reply: FastifyReply) =>
    reply
      .code(503)
      .type('text/plain')
      .send(
        'Endpoint: /api/2.0/mlflow-artifacts/artifacts disabled due to the mlflow server running with `--no-serve-artifacts`.',
      );

  app.get(ARTIFACTS, async (request, reply) => {
    if (!options.proxyArtifacts) return disabled(reply);
    const dir = String((request.query as Body)['path'] ?? '').replace(/^\/+|\/+$/g, '');
    const prefix = dir ? `${dir}/` : '';
    const children = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const [path, bytes] of state.artifacts) {
      if (!path.startsWith(prefix)) continue;
      const [head, ...rest] = path.slice(prefix.length).split('/');
      children.set(
        head!,
        rest.length ? { path: head!, is_dir: true } : { path: head!, is_dir: false, file_size: bytes.length },
      );
    }
    return json(reply, children.size ? { files: [...children.values()] } : {});
  });
  app.put(`${ARTIFACTS}/*`, async (request, reply) => {
    if (!options.proxyArtifacts) return disabled(reply);
    const path = safeArtifactPath((request.params as { '*': string })['*']);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    state.artifacts.set(path, new Uint8Array(body));
    return json(reply, {});
  });
  app.get(`${ARTIFACTS}/*`, async (request, reply) => {
    if (!options.proxyArtifacts) return disabled(reply);
    const bytes = state.artifacts.get(safeArtifactPath((request.params as { '*': string })['*']));
    // The real proxy fails inside the artifact repository: a plain 500, not an MLflow error body.
    if (!bytes) throw new Error('artifact not found');
    return reply.type('application/octet-stream').send(Buffer.from(bytes));
  });
  return (path) => known.has(path) || path.startsWith(`${ARTIFACTS}/`);
}

function safeArtifactPath(raw: string): string {
  const path = posix.normalize(decodeURIComponent(raw)).replace(/^\/+/, '');
  if (path.startsWith('..') || path.includes('/../')) {
    throw new MlflowApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${raw}`);
  }
  return path;
}
