import { posix } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid, type Metric, MlflowApiError, type StandInState, type Tag } from './mlflow-standin-state.js';

type Body = Record<string, unknown>;
const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

/** MLflow reads JSON for POST/DELETE (after checking the content type of POST/PUT) and the query for GET. */
function message(request: FastifyRequest): Body {
  if (request.method === 'GET') return { ...(request.query as Body) };
  if (request.method === 'POST' || request.method === 'PUT') {
    const type = request.headers['content-type'];
    if (type === undefined) throw invalid('Bad Request. Content-Type header is missing.');
    if (type.split(';')[0]!.trim() !== 'application/json') {
      throw invalid("Bad Request. Content-Type must be one of ['application/json'].");
    }
  }
  const raw = request.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Body) : {};
  } catch {
    return {}; // Flask's get_json(silent=True) gives None: treated as an empty message
  }
}

function required(body: Body, key: string): string {
  const value = body[key];
  if (value === undefined || value === null || value === '') {
    throw invalid(
      `Missing value for required parameter '${key}'. See the API docs for more information about request parameters.`,
    );
  }
  if (typeof value !== 'string') {
    throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${key}' supplied.`);
  }
  return value;
}

function tags(value: unknown): Tag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw invalid(`Invalid value ${JSON.stringify(value)} for parameter 'tags' supplied.`);
  return value.map((t) => ({ key: String((t as Tag).key), value: String((t as Tag).value ?? '') }));
}

function metrics(value: unknown): Metric[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw invalid(`Invalid value ${JSON.stringify(value)} for parameter 'metrics' supplied.`);
  return value.map((m: Body) => {
    if (typeof m['key'] !== 'string' || typeof m['value'] !== 'number' || m['timestamp'] === undefined) {
      throw invalid(`Invalid metric ${JSON.stringify(m)}: key, value and timestamp are required.`);
    }
    return {
      key: m['key'],
      value: m['value'],
      timestamp: Number(m['timestamp']),
      step: Number(m['step'] ?? 0),
    };
  });
}

/** MLflow's `_validate_model_version`: a version that is not an integer is a 400, not a 404. */
function versionParam(body: Body): string {
  const value = required(body, 'version');
  if (!/^-?\d+$/.test(value.trim())) throw invalid(`Model version must be an integer, got '${value}'`);
  return String(Number(value));
}

const RUN_STATUSES = new Set(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);

/** A `name = '<model>'` filter (the only one the stand-in understands); anything else is refused. */
function nameFilter(body: Body): string | undefined {
  // MLflow sorts by `order_by`; the stand-in cannot, so it refuses rather than ignoring it.
  if (body['order_by'] !== undefined) throw invalid('The stand-in does not support order_by.');
  const filter = String(body['filter'] ?? '').trim();
  if (!filter) return undefined;
  const match = /^name\s*=\s*'([^']*)'$/.exec(filter);
  if (!match) throw invalid(`Invalid filter '${filter}'. The stand-in supports name='<model>' only.`);
  return match[1];
}

/** MLflow's `_assert_less_than_or_equal` on `max_results` of the search endpoints. */
function maxResultsAtMost(body: Body, limit: number): void {
  const value = body['max_results'];
  if (value !== undefined && !(Number(value) <= limit)) {
    throw invalid(
      `Invalid value ${String(value)} for parameter 'max_results' supplied. See the API docs for more information about request parameters.`,
    );
  }
}

function page<T>(items: T[], body: Body): { items: T[]; next?: string } {
  const max = Number(body['max_results'] ?? 100);
  const offset = body['page_token']
    ? Number(Buffer.from(String(body['page_token']), 'base64').toString())
    : 0;
  const slice = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(String(offset + max)).toString('base64') : undefined;
  return { items: slice, ...(next ? { next } : {}) };
}

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

/** Protobuf's JSON leaves out empty repeated fields: `tags: []` is never sent. */
function withoutEmpty<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => !(Array.isArray(v) && v.length === 0)),
  ) as Partial<T>;
}
