#!/usr/bin/env node
// Starts what the Python tests talk to, natively: a real coordinator (`fedlearn server`, the
// CLI's dist build) with its registry in an MLflow STAND-IN (@fedlearn/registry/testing: MLflow's
// REST paths, status codes and error bodies, not MLflow itself), and `--clients` real `fedlearn
// client` processes on MNIST partitions. Prints one JSON line with the URLs and the API token,
// then runs until its stdin closes (the test ends) or SIGTERM, and stops everything it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMlflowStandIn } from '@fedlearn/registry/testing';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const { values } = parseArgs({ options: { clients: { type: 'string', default: '2' } } });
const clients = Number(values.clients);

const home = mkdtempSync(join(tmpdir(), 'fedlearn-airflow-test-'));
const log = openSync(join(home, 'stack.log'), 'a');
const apiToken = randomBytes(18).toString('base64url');
const clientToken = randomBytes(18).toString('base64url');
const mlflow = await startMlflowStandIn({ proxyArtifacts: true });
const children = [];

function start(args, env) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', log, 'pipe'],
  });
  children.push(child);
  return child;
}

async function stop(code) {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', done);
          child.kill('SIGTERM');
        }),
    ),
  );
  await mlflow.close();
  rmSync(home, { recursive: true, force: true });
  process.exit(code);
}

const coordinator = start(['server', '--port', '0', '--home', home], {
  FEDLEARN_API_TOKEN: apiToken,
  FEDLEARN_CLIENT_TOKEN: clientToken,
  MLFLOW_TRACKING_URI: mlflow.url,
});
const url = await new Promise((found, failed) => {
  let text = '';
  coordinator.stderr.on('data', (chunk) => {
    text += chunk;
    const match = /coordinator listening on (\S+)/.exec(text);
    if (match) found(match[1]);
  });
  coordinator.once('exit', (code) => failed(new Error(`coordinator exited ${code}: ${text}`)));
});
coordinator.stderr.pipe(process.stderr);

for (let index = 0; index < clients; index++) {
  const client = start(
    [
      'client',
      '--server',
      url,
      '--index',
      String(index),
      '--clients',
      '20',
      '--seed',
      '7',
      '--backend',
      'wasm',
    ],
    { FEDLEARN_CLIENT_TOKEN: clientToken },
  );
  client.stderr.pipe(process.stderr);
}

// Ready when every client has joined (a job would otherwise wait for them).
for (;;) {
  const status = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${apiToken}` } })
    .then((r) => r.json())
    .catch(() => undefined);
  if (status && status.clients.length >= clients) break;
  await new Promise((r) => setTimeout(r, 100));
}

process.stdout.write(`${JSON.stringify({ coordinator: url, apiToken, mlflow: mlflow.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void stop(0));
process.stdin.on('close', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
