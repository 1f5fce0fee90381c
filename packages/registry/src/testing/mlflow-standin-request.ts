import type { FastifyRequest } from 'fastify';
import { invalid, type Metric, type Tag } from './mlflow-standin-state.js';

/** A request's parameters: the JSON body, or the query of a GET. */
export type Body = Record<string, unknown>;

/** MLflow reads JSON for POST/DELETE (after checking the content type of POST/PUT) and the query for GET. */
export function message(request: FastifyRequest): Body {
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

export function required(body: Body, key: string): string {
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

export function tags(value: unknown): Tag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw invalid(`Invalid value ${JSON.stringify(value)} for parameter 'tags' supplied.`);
  return value.map((t) => ({ key: String((t as Tag).key), value: String((t as Tag).value ?? '') }));
}

export function metrics(value: unknown): Metric[] {
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
export function versionParam(body: Body): string {
  const value = required(body, 'version');
  if (!/^-?\d+$/.test(value.trim())) throw invalid(`Model version must be an integer, got '${value}'`);
  return String(Number(value));
}

export const RUN_STATUSES = new Set(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);

/** A `name = '<model>'` filter (the only one the stand-in understands); anything else is refused. */
export function nameFilter(body: Body): string | undefined {
  // MLflow sorts by `order_by`; the stand-in cannot, so it refuses rather than ignoring it.
  if (body['order_by'] !== undefined) throw invalid('The stand-in does not support order_by.');
  const filter = String(body['filter'] ?? '').trim();
  if (!filter) return undefined;
  const match = /^name\s*=\s*'([^']*)'$/.exec(filter);
  if (!match) throw invalid(`Invalid filter '${filter}'. The stand-in supports name='<model>' only.`);
  return match[1];
}

/** MLflow's `_assert_less_than_or_equal` on `max_results` of the search endpoints. */
export function maxResultsAtMost(body: Body, limit: number): void {
  const value = body['max_results'];
  if (value !== undefined && !(Number(value) <= limit)) {
    throw invalid(
      `Invalid value ${String(value)} for parameter 'max_results' supplied. See the API docs for more information about request parameters.`,
    );
  }
}

export function page<T>(items: T[], body: Body): { items: T[]; next?: string } {
  const max = Number(body['max_results'] ?? 100);
  const offset = body['page_token']
    ? Number(Buffer.from(String(body['page_token']), 'base64').toString())
    : 0;
  const slice = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(String(offset + max)).toString('base64') : undefined;
  return { items: slice, ...(next ? { next } : {}) };
}

/** Protobuf's JSON leaves out empty repeated fields: `tags: []` is never sent. */
export function withoutEmpty<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => !(Array.isArray(v) && v.length === 0)),
  ) as Partial<T>;
}
