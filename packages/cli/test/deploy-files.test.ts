import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

// The deployment files (Dockerfile, docker-compose.yml, .env.example, deploy/) are checked by the same
// script CI runs, scripts/validate-deploy.mjs: on the real files, and on copies with one thing broken,
// each of which must be refused by the rule that guards it.
const ROOT = resolve(import.meta.dirname, '../../..');
const VALIDATOR = join(ROOT, 'scripts/validate-deploy.mjs');
const run = promisify(execFile);

interface Problem {
  file: string;
  rule: string;
  message: string;
}
type Validate = (root: string, options?: { composeCli?: boolean }) => Problem[];

const { validateDeploy } = (await import(pathToFileURL(VALIDATOR).href)) as { validateDeploy: Validate };

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the deployment files with `edit` applied to one of them. */
function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedlearn-deploy-'));
  copies.push(dir);
  for (const f of ['docker-compose.yml', '.env.example', 'Dockerfile', 'deploy', 'examples/airflow']) {
    cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  }
  symlinkSync(join(ROOT, 'packages'), join(dir, 'packages'));
  const before = readFileSync(join(dir, file), 'utf8');
  const after = edit(before);
  expect(after, `the edit of ${file} changed nothing`).not.toBe(before);
  writeFileSync(join(dir, file), after);
  return dir;
}

/** Drops the HEALTHCHECK (two lines) of the serving stage only. */
const withoutServingHealthcheck = (t: string) =>
  t.replace(/(AS serving\n(?:.*\n)*?)HEALTHCHECK [^\n]*\\\n[^\n]*\n/, '$1');

const rulesOf = (problems: Problem[]) => [...new Set(problems.map((p) => p.rule))].sort();

async function runValidator(root: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [VALIDATOR, '--root', root]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('scripts/validate-deploy.mjs (docker-compose 1.29, compose-spec schema, Dockerfile rules)', () => {
  it('accepts the committed deployment files, docker-compose included', async () => {
    const { code, output } = await runValidator(ROOT);
    expect(output).toContain('deployment files: valid');
    expect(code).toBe(0);
  });

  it('refuses a misspelled compose key in both the real compose parser and the schema', async () => {
    const dir = brokenCopy('docker-compose.yml', (t) =>
      t.replace('    restart: unless-stopped\n', '    restrt: unless-stopped\n'),
    );
    const { code, output } = await runValidator(dir);
    expect(code).toBe(1);
    expect(output).toMatch(/\[compose-cli\].*restrt/s);
    expect(output).toMatch(/\[compose-schema\].*restrt/);
  });

  it.each([
    [
      'docker-compose.yml',
      'a service without a healthcheck',
      ['healthcheck'],
      (t: string) => t.replace(/( {2}redis:\n(?:.*\n)*?) {4}healthcheck:\n(?: {6}.*\n)+/, '$1'),
    ],
    [
      'docker-compose.yml',
      'depends_on that only waits for a start',
      ['depends-on'],
      (t: string) =>
        t.replace('minio: { condition: service_healthy }', 'minio: { condition: service_started }'),
    ],
    [
      'docker-compose.yml',
      'a profiled service left out of "all"',
      ['profiles'],
      (t: string) => t.replace('profiles: [monitoring, all]', 'profiles: [monitoring]'),
    ],
    [
      'docker-compose.yml',
      'a replica count that is not a number',
      ['compose-schema'],
      (t: string) => t.replace(/replicas: \$\{FEDLEARN_CLIENTS:-3\}/, 'replicas: three'),
    ],
    [
      'docker-compose.yml',
      'a secret written into the file',
      ['no-secrets'],
      (t: string) =>
        t.replace(/POSTGRES_PASSWORD: \$\{POSTGRES_PASSWORD:\?[^}]*\}/, 'POSTGRES_PASSWORD: hunter2'),
    ],
    [
      '.env.example',
      'a committed token',
      ['no-secrets'],
      (t: string) => t.replace('FEDLEARN_API_TOKEN=\n', 'FEDLEARN_API_TOKEN=abc123\n'),
    ],
    [
      '.env.example',
      'a variable the compose file needs but .env.example lacks',
      ['env-example', 'interpolation'],
      (t: string) => t.replace('GRAFANA_ADMIN_PASSWORD=\n', ''),
    ],
    ['Dockerfile', 'images that run as root', ['non-root'], (t: string) => t.replace('USER node\n', '')],
    ['Dockerfile', 'a serving image without a HEALTHCHECK', ['healthcheck'], withoutServingHealthcheck],
    [
      'Dockerfile',
      'a secret baked in with ENV',
      ['no-secrets'],
      (t: string) => t.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=production FEDLEARN_API_TOKEN=abc'),
    ],
    [
      'Dockerfile',
      'an unpinned base image',
      ['base-image', 'pinned-base'],
      (t: string) => t.replace('ARG NODE_IMAGE=node:20.19-bookworm-slim', 'ARG NODE_IMAGE=node:latest'),
    ],
    [
      'Dockerfile',
      'dependencies installed without the lockfile',
      ['npm-ci'],
      (t: string) => t.replaceAll('npm ci ', 'npm install '),
    ],
    [
      'Dockerfile',
      'a workspace package left out of the dependency layer',
      ['workspace-manifests'],
      (t: string) => t.replace('COPY packages/serving/package.json packages/serving/\n', ''),
    ],
    [
      'deploy/grafana/dashboards/fedlearn.json',
      'a dashboard querying a metric nobody exports',
      ['dashboard-metric'],
      (t: string) => t.replace('fedlearn_global_model_accuracy', 'fedlearn_global_accuracy'),
    ],
  ])('%s: refuses %s', (file, _what, rules, edit) => {
    const problems = validateDeploy(brokenCopy(file, edit), { composeCli: false });
    expect(rulesOf(problems)).toEqual(rules);
  });

  it('names the broken target: a serving image without a HEALTHCHECK is reported for serving only', () => {
    const dir = brokenCopy('Dockerfile', withoutServingHealthcheck);
    const messages = validateDeploy(dir, { composeCli: false }).map((p) => p.message);
    expect(messages).toEqual([expect.stringContaining('target "serving" has no HEALTHCHECK')]);
  });
});
