import { reverse } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';
import { FedlearnError } from '@fedlearn/core';

/**
 * `fedlearn client --index auto`: which data partition this replica holds, with no per-replica
 * configuration. Replicas of one compose service run the same command, but compose names each
 * container `<project>-<service>-<n>` (Compose v2) or `<project>_<service>_<n>` (docker-compose
 * 1.x), numbered from 1, and Docker's embedded DNS answers a reverse lookup of the container's own
 * address with that name. So the index is n − 1: stable across restarts of a replica, distinct
 * between replicas, dense from 0 — which is what partitioning needs. `FEDLEARN_CLIENT_INDEX`
 * (0-based) overrides the lookup, e.g. for a Kubernetes StatefulSet's ordinal.
 */
export interface ReplicaLookup {
  env: Record<string, string | undefined>;
  /** This machine's host name. */
  hostname: () => string;
  /** Names a reverse DNS lookup of this machine's own (non-loopback) addresses gives. */
  reverseNames: () => Promise<string[]>;
}

/** The 0-based replica index in a compose container name, or undefined when there is none. */
export function replicaIndexFromName(name: string, service = 'client'): number | undefined {
  const host = name.split('.')[0] ?? '';
  const escaped = service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`[-_]${escaped}[-_](\\d{1,6})$`).exec(host);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n >= 1 ? n - 1 : undefined;
}

/** Reads FEDLEARN_CLIENT_INDEX: a non-negative integer, or undefined when unset or blank. */
export function indexFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d{1,6}$/.test(value.trim())) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'FEDLEARN_CLIENT_INDEX must be a non-negative integer (the 0-based partition index)',
    );
  }
  return Number(value.trim());
}

/** The index `--index auto` stands for, and where it came from (printed by the client). */
export async function autoClientIndex(lookup: ReplicaLookup): Promise<{ index: number; source: string }> {
  const fromEnv = indexFromEnv(lookup.env.FEDLEARN_CLIENT_INDEX);
  if (fromEnv !== undefined) return { index: fromEnv, source: 'FEDLEARN_CLIENT_INDEX' };
  const service = lookup.env.FEDLEARN_CLIENT_SERVICE?.trim() || 'client';
  const host = lookup.hostname();
  const fromHost = replicaIndexFromName(host, service);
  if (fromHost !== undefined) return { index: fromHost, source: `host name ${host}` };
  for (const name of await lookup.reverseNames()) {
    const index = replicaIndexFromName(name, service);
    if (index !== undefined) return { index, source: `container name ${name}` };
  }
  throw new FedlearnError(
    'INVALID_CONFIG',
    `--index auto: cannot tell which replica this is (no "<project>-${service}-<n>" container name by host name or reverse DNS); set FEDLEARN_CLIENT_INDEX`,
  );
}

/**
 * Reads `--index`: a partition number, or `auto` (see {@link autoClientIndex}). Either must be
 * below `clients`: a replica past the partition count would train on nothing.
 */
export async function clientIndexOption(
  value: string | undefined,
  clients: number,
  lookup: ReplicaLookup = systemReplicaLookup(process.env),
): Promise<{ index: number; source: string }> {
  if (value === undefined) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      '--index is required: the partition this client holds (0 ≤ I < --clients), or auto',
    );
  }
  const chosen =
    value === 'auto'
      ? await autoClientIndex(lookup)
      : { index: /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN, source: '--index' };
  if (!Number.isInteger(chosen.index) || chosen.index < 0 || chosen.index >= clients) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      value === 'auto'
        ? `--index auto found replica index ${chosen.index} (from ${chosen.source}), but --clients is ${clients}: run at most --clients replicas`
        : `--index must be an integer from 0 to ${clients - 1} (--clients ${clients}), or auto`,
    );
  }
  return chosen;
}

/** The lookup on a real machine: its host name and a reverse DNS query of each IPv4 address. */
export function systemReplicaLookup(env: Record<string, string | undefined>): ReplicaLookup {
  return {
    env,
    hostname,
    reverseNames: async () => {
      const addresses = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      const names = await Promise.all(addresses.map((a) => reverse(a).catch(() => [] as string[])));
      return names.flat();
    },
  };
}
