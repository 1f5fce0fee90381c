#!/usr/bin/env node
// Entry point of the `client` image. `fedlearn client` needs --index (its data partition), but
// replicas of one compose service all run the same command, so each replica derives its index
// here from the name compose gave its container — `<project>-client-<n>` (Compose v2) or
// `<project>_client_<n>` (docker-compose 1.x), numbered from 1 — found by a reverse DNS lookup of
// its own address on the compose network (Docker's embedded DNS answers those). FEDLEARN_CLIENT_INDEX
// overrides the lookup. Every other flag is passed through to `fedlearn client`.
import { spawn } from 'node:child_process';
import { reverse } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { pathToFileURL } from 'node:url';

/** The 0-based replica index in a compose container name, or undefined when there is none. */
export function replicaIndexFromName(name, service = 'client') {
  const host = name.split('.')[0] ?? '';
  const match = new RegExp(`[-_]${service}[-_](\\d+)$`).exec(host);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n >= 1 ? n - 1 : undefined;
}

/** Reads FEDLEARN_CLIENT_INDEX: a non-negative integer, or undefined when unset. */
export function indexFromEnv(value) {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new Error(`FEDLEARN_CLIENT_INDEX must be a non-negative integer, got "${value}"`);
  }
  return Number(value.trim());
}

async function indexFromDns(service) {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
  for (const address of addresses) {
    const names = await reverse(address).catch(() => []);
    for (const name of names) {
      const index = replicaIndexFromName(name, service);
      if (index !== undefined) return index;
    }
  }
  return undefined;
}

async function main() {
  // Runtime configuration of the container, not of a build: read once, here.
  const { env } = process;
  const service = env.FEDLEARN_CLIENT_SERVICE ?? 'client';
  const index = indexFromEnv(env.FEDLEARN_CLIENT_INDEX) ?? (await indexFromDns(service));
  if (index === undefined) {
    process.stderr.write(
      `client-entrypoint: cannot tell which replica this is (no "${service}-<n>" container name found by reverse DNS); set FEDLEARN_CLIENT_INDEX\n`,
    );
    process.exit(2);
  }
  const args = [
    'client',
    '--index',
    String(index),
    '--server',
    env.FEDLEARN_SERVER ?? 'http://coordinator:8700',
    ...process.argv.slice(2),
  ];
  const child = spawn('fedlearn', args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
