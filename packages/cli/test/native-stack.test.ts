import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type MlflowStandIn, startMlflowStandIn } from '@fedlearn/registry/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fedlearn, stopAll } from '../../../examples/support/processes.js';
import { IMAGE_SIZE } from '../src/mnist.js';

// The compose stack without a Docker engine: the coordinator, client and serving services run as
// processes with exactly the command and environment `docker-compose config` resolves for them
// (the real compose parser, so this cannot drift from docker-compose.yml), on the `mlops`
// settings of .env.example: registry in MLflow, artifacts in S3, Redis for serving. What a
// container gives and a process cannot is substituted, and only that:
//   - the image's ENTRYPOINT `fedlearn` → `node packages/cli/dist/bin.js`; its ENV from the Dockerfile;
//   - service host names (coordinator, redis, mlflow, minio) → 127.0.0.1, container ports → free ports;
//   - the fedlearn-home volume → a temporary folder (FEDLEARN_HOME);
//   - a replica's container name (what `client --index auto` reads) → FEDLEARN_CLIENT_INDEX;
//   - the mlflow service → the MLflow STAND-IN of @fedlearn/registry/testing (MLflow's REST API;
//     MLflow itself cannot run here), minio → s3rver, the S3 server the registry tests use;
//     redis → the machine's Redis. (PostgreSQL backs only MLflow and Airflow in the stack: no
//     fedlearn service reads it, so the stand-in takes its place with MLflow.)
const ROOT = resolve(import.meta.dirname, '../../..');

interface ComposeService {
  command: string[];
  environment: Record<string, string>;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
}

/** `.env.example` with the secrets filled, the mlops backends on, and a small job. */
function testEnvFile(dir: string): string {
  const values: Record<string, string> = {
    FEDLEARN_API_TOKEN: randomBytes(18).toString('hex'),
    FEDLEARN_CLIENT_TOKEN: randomBytes(18).toString('hex'),
    FEDLEARN_SERVING_API_KEY: randomBytes(18).toString('hex'),
    FEDLEARN_CLIENTS: '2',
    FEDLEARN_ROUNDS: '2',
    FEDLEARN_MODEL_NAME: 'stack-model',
    // The mlops profile's settings, as docs/deployment.md gives them.
    MLFLOW_TRACKING_URI: 'http://mlflow:5000',
    FEDLEARN_ARTIFACT_STORE: 's3',
    AWS_ENDPOINT_URL_S3: 'http://minio:9000',
    MLFLOW_S3_ENDPOINT_URL: 'http://minio:9000',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  const lines = readFileSync(join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .map((line) => {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (!match) return line;
      const [, key, value] = match;
      return `${key}=${values[key!] ?? (value || `test-${key!.toLowerCase()}`)}`;
    });
  const file = join(dir, 'stack.env');
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** The services as docker-compose 1.29 resolves them (interpolated, anchors merged). */
function composeServices(envFile: string): Record<string, ComposeService> {
  const run = spawnSync(
    'docker-compose',
    ['-f', join(ROOT, 'docker-compose.yml'), '--env-file', envFile, '--profile', 'mlops', 'config'],
    { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } },
  );
  if (run.status !== 0) throw new Error(`docker-compose config: ${run.stderr}`);
  return (parse(run.stdout) as { services: Record<string, ComposeService> }).services;
}

/** ENV of the Dockerfile's runtime stage and of `target`. */
function dockerfileEnv(target: string): Record<string, string> {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const env: Record<string, string> = {};
  let stage = '';
  for (const line of text.split('\n')) {
    const from = /^FROM \S+ AS (\S+)/.exec(line);
    if (from) stage = from[1]!;
    if ((stage === 'runtime' || stage === target) && line.startsWith('ENV ')) {
      for (const [, k, v] of line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)) env[k!] = v!;
    }
  }
  return env;
}

let mlflow: MlflowStandIn | undefined;
let s3: { close(): Promise<void> } | undefined;
afterAll(async () => {
  await stopAll();
  await mlflow?.close();
  await s3?.close();
});

/** A service's command as a process: the image's entrypoint `fedlearn` is the built CLI. */
const run = (name: string, args: string[], env: Record<string, string>) =>
  fedlearn(args, { env, name, cleanEnv: true });

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

describe('the compose services, started natively as processes (docker-compose config → commands and env)', () => {
  it('trains a job at start, registers it in MLflow with artifacts in S3, and serves the champion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-native-stack-'));
    const services = composeServices(testEnvFile(dir));
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['coordinator', 'client', 'serving']));
    const [coordinator, client, serving] = [services.coordinator!, services.client!, services.serving!];

    const { default: S3rver } = (await import('s3rver' as string)) as {
      default: new (options: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };
    };
    const s3rver = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'mlflow' }, { name: 'data' }], // what the minio-init service creates
    });
    s3 = s3rver;
    const s3Url = `http://127.0.0.1:${(await s3rver.run()).port}`;
    mlflow = await startMlflowStandIn({ proxyArtifacts: false, artifactRoot: 's3://mlflow' });
    const ports = { 8700: await freePort(), 8800: await freePort(), 50051: await freePort() };
    const hosts: Record<string, string> = {
      'http://coordinator:8700': `http://127.0.0.1:${ports[8700]}`,
      'http://mlflow:5000': mlflow.url,
      'http://minio:9000': s3Url,
      'redis://redis:6379': 'redis://127.0.0.1:6379',
    };
    const native = (value: string) => {
      let out = value;
      for (const [from, to] of Object.entries(hosts)) out = out.replaceAll(from, to);
      return out
        .replace(/^--host=0\.0\.0\.0$/, '--host=127.0.0.1')
        .replace(
          /^--(port|grpc-port)=(8700|8800|50051)$/,
          (_, flag, port) => `--${flag}=${ports[port as '8700']}`,
        );
    };
    const home = join(dir, 'fedlearn-home');
    const envOf = (
      service: ComposeService,
      target: string,
      extra: Record<string, string> = {},
    ): Record<string, string> => ({
      ...Object.fromEntries(
        Object.entries({ ...dockerfileEnv(target), ...service.environment }).map(([k, v]) => [
          k,
          native(String(v)),
        ]),
      ),
      FEDLEARN_HOME: home,
      ...extra,
    });
    // Every fedlearn service of the stack names its volume /var/lib/fedlearn, the Dockerfile's FEDLEARN_HOME.
    expect(dockerfileEnv('coordinator').FEDLEARN_HOME).toBe('/var/lib/fedlearn');
    expect(envOf(serving, 'serving').REDIS_URL).toBe('redis://127.0.0.1:6379');

    const coordinatorProcess = run(
      'coordinator',
      coordinator.command.map(native),
      envOf(coordinator, 'coordinator'),
    );
    await coordinatorProcess.waitFor(/coordinator listening on/);
    // The compose healthcheck itself, with its port mapped, says healthy.
    const health = coordinator
      .healthcheck!.test.slice(1)
      .map((a) => a.replaceAll(':8700', `:${ports[8700]}`));
    expect(spawnSync(health[0] === 'node' ? process.execPath : health[0]!, health.slice(1)).status).toBe(0);

    const replicas = client.deploy?.replicas ?? 1;
    expect(replicas).toBe(2);
    expect(client.command).toContain('--index=auto');
    const clients = Array.from({ length: replicas }, (_, i) =>
      run(
        `client-${i + 1}`,
        client.command.map(native),
        envOf(client, 'client', { FEDLEARN_CLIENT_INDEX: String(i) }), // what container name <project>-client-<i+1> gives
      ),
    );
    const servingProcess = run('serving', serving.command.map(native), envOf(serving, 'serving'));
    await servingProcess.waitFor(/waiting for stack-model@champion/);

    // `server --rounds --keep-running`: the boot job trains, and the coordinator stays up after it.
    await coordinatorProcess.waitFor(/job stack-model-\S+ (completed|failed|cancelled)/);
    expect(coordinatorProcess.output()).toMatch(/job stack-model-\S+ completed/);
    for (const c of clients) expect(c.output()).toMatch(/partition \d of 2 \(from FEDLEARN_CLIENT_INDEX\)/);
    expect(coordinatorProcess.child.exitCode).toBeNull(); // stays up after its job
    const jobs = (await (
      await fetch(`${hosts['http://coordinator:8700']}/v1/jobs`, {
        headers: { authorization: `Bearer ${envOf(coordinator, 'coordinator').FEDLEARN_API_TOKEN}` },
      })
    ).json()) as { jobs: { status: string; rounds: { model?: { version: number; uri: string } }[] }[] };
    expect(jobs.jobs.map((j) => j.status)).toEqual(['completed']);
    const registered = jobs.jobs[0]!.rounds.map((r) => r.model?.version);
    expect(registered).toEqual([1, 2]);

    // Registered in MLflow (the stand-in), artifacts in S3 (s3rver): the champion's files are there.
    const alias = (await (
      await fetch(`${mlflow.url}/api/2.0/mlflow/registered-models/alias?name=stack-model&alias=champion`)
    ).json()) as { model_version: { version: string; source: string } };
    expect(alias.model_version.source).toMatch(/^s3:\/\/mlflow\//);
    const key = alias.model_version.source.replace(/^s3:\/\/mlflow\//, '');
    expect((await fetch(`${s3Url}/mlflow/${key}/fedlearn-manifest.json`)).status).toBe(200);

    // Serving found the champion (it waited for it) and answers with its name and version.
    await servingProcess.waitFor(/REST\s+http:\/\//);
    const apiKey = envOf(serving, 'serving').FEDLEARN_API_KEYS!;
    const predict = async () => {
      const answer = await fetch(`http://127.0.0.1:${ports[8800]}/v1/models/stack-model/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ instance: new Array(IMAGE_SIZE).fill(0.1) }),
      });
      return {
        status: answer.status,
        body: (await answer.json()) as { model: string; version: string; probabilities: number[] },
      };
    };
    let { status, body } = await predict();
    expect(status, JSON.stringify(body)).toBe(200);
    // Serving may have started on an earlier champion; it swaps the new one in at its next alias poll.
    while (body.version !== alias.model_version.version) {
      expect(Number(body.version)).toBeLessThan(Number(alias.model_version.version));
      await new Promise((r) => setTimeout(r, 250));
      ({ status, body } = await predict());
    }
    expect(body).toMatchObject({ model: 'stack-model', version: alias.model_version.version });
    expect(body.probabilities).toHaveLength(10);
    const unauthenticated = await fetch(`http://127.0.0.1:${ports[8800]}/v1/models/stack-model/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instance: new Array(IMAGE_SIZE).fill(0.1) }),
    });
    expect(unauthenticated.status).toBe(401);
  });
});
