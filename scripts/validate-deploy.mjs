#!/usr/bin/env node
// Validates the deployment files without a Docker engine (CI runs it before the tests):
//   1. docker-compose.yml parsed and validated by a real compose implementation — Debian's
//      docker-compose 1.29 (`config -q` for the default profile and for `--profile all`);
//   2. the same file, interpolated with .env.example, against the compose-spec JSON schema, plus the
//      stack's own rules (healthchecks, depends_on conditions, profiles, volumes, no committed secrets);
//   3. the Dockerfiles linted with explicit rules (scripts/deploy/dockerfile-lint.mjs);
//   4. the Grafana dashboard queries only metrics the coordinator and serving really export.
// Usage: node scripts/validate-deploy.mjs [--root DIR]   (exit 0 when clean, 1 with the problems listed)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  COMPOSE_SCHEMA_PATH,
  dashboardMetrics,
  envExampleProblems,
  interpolate,
  parseCompose,
  parseEnvFile,
  schemaProblems,
  stackProblems,
} from './deploy/compose-checks.mjs';
import { lintDockerfile } from './deploy/dockerfile-lint.mjs';

const DOCKERFILES = [
  {
    path: 'Dockerfile',
    targets: ['coordinator', 'client', 'serving'],
    baseImage: /^node:20(\.\d+)*-[a-z]+-slim$/,
  },
  { path: 'deploy/mlflow/Dockerfile' },
];
const METRIC_SOURCES = ['packages/server/src', 'packages/serving/src'];
const DASHBOARD_DIR = 'deploy/grafana/dashboards';

/** An .env for validation: every empty value in .env.example filled with a placeholder. */
function placeholderEnv(envExample) {
  return new Map([...envExample].map(([k, v]) => [k, v === '' ? `placeholder-${k.toLowerCase()}` : v]));
}

function composeCli(root, envFile, profileArgs) {
  const args = [
    '-f',
    join(root, 'docker-compose.yml'),
    '--env-file',
    envFile,
    ...profileArgs,
    'config',
    '-q',
  ];
  // A clean environment: the shell's variables would override the env file.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  const run = spawnSync('docker-compose', args, { cwd: root, env, encoding: 'utf8' });
  if (run.error?.code === 'ENOENT') {
    return [{ rule: 'compose-cli', message: 'docker-compose not found: apt-get install -y docker-compose' }];
  }
  if (run.status === 0) return [];
  const output = `${run.stderr}${run.stdout}`.trim().split('\n').slice(0, 20).join('\n  ');
  return [{ rule: 'compose-cli', message: `docker-compose ${profileArgs.join(' ')} config: ${output}` }];
}

function sourceText(root, dir) {
  return readdirSync(join(root, dir), { recursive: true })
    .filter((f) => String(f).endsWith('.ts') && !String(f).endsWith('.test.ts'))
    .map((f) => readFileSync(join(root, dir, String(f)), 'utf8'))
    .join('\n');
}

/**
 * Runs every check on the deployment files under `root`; returns `[{ file, rule, message }]`.
 * `composeCli: false` leaves out the docker-compose run (for tests of the other rules; CI runs all).
 */
export function validateDeploy(root, { composeCli: runComposeCli = true } = {}) {
  const problems = [];
  const add = (file, list) => problems.push(...list.map((p) => ({ file, ...p })));

  const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const envExample = parseEnvFile(readFileSync(join(root, '.env.example'), 'utf8'));
  add('.env.example', envExampleProblems(composeText, envExample));

  const env = placeholderEnv(envExample);
  if (runComposeCli) {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-validate-'));
    try {
      const envFile = join(dir, 'env');
      writeFileSync(envFile, [...env].map(([k, v]) => `${k}=${v}`).join('\n'));
      add('docker-compose.yml', composeCli(root, envFile, []));
      add('docker-compose.yml', composeCli(root, envFile, ['--profile', 'all']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const doc = parseCompose(composeText);
  add('docker-compose.yml', stackProblems(doc));
  const interpolationProblems = [];
  const resolved = interpolate(doc, env, interpolationProblems);
  add('docker-compose.yml', interpolationProblems);
  add('docker-compose.yml', schemaProblems(resolved, JSON.parse(readFileSync(COMPOSE_SCHEMA_PATH, 'utf8'))));

  // The dependency layer is built from the manifests alone; a workspace missing there breaks `npm ci`.
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  for (const pkg of readdirSync(join(root, 'packages'))) {
    if (!existsSync(join(root, 'packages', pkg, 'package.json'))) continue;
    if (!dockerfile.includes(`COPY packages/${pkg}/package.json `)) {
      problems.push({
        file: 'Dockerfile',
        rule: 'workspace-manifests',
        message: `packages/${pkg}/package.json is not copied before \`npm ci\``,
      });
    }
  }

  for (const { path, ...options } of DOCKERFILES) {
    const found = lintDockerfile(readFileSync(join(root, path), 'utf8'), options);
    add(
      path,
      found.map(({ line, rule, message }) => ({ rule, message: `line ${line}: ${message}` })),
    );
  }

  const exported = METRIC_SOURCES.map((d) => sourceText(root, d)).join('\n');
  for (const file of readdirSync(join(root, DASHBOARD_DIR)).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(root, DASHBOARD_DIR, file), 'utf8'));
    for (const metric of dashboardMetrics(dashboard)) {
      if (!exported.includes(`'${metric}'`)) {
        problems.push({
          file: `${DASHBOARD_DIR}/${file}`,
          rule: 'dashboard-metric',
          message: `${metric} is not exported by ${METRIC_SOURCES.join(' or ')}`,
        });
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { root: { type: 'string' } } });
  const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = validateDeploy(root);
  for (const p of problems)
    console.error(`${relative(process.cwd(), join(root, p.file))}: [${p.rule}] ${p.message}`);
  console.log(
    problems.length === 0 ? 'deployment files: valid' : `deployment files: ${problems.length} problem(s)`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
