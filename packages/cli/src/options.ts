import { readFileSync } from 'node:fs';
import { FedlearnError, type PartitionScheme, parsePartitionScheme } from '@fedlearn/core';

/** Reads a positive integer option, with a message that names the flag. */
export function intOption(
  value: string | undefined,
  flag: string,
  fallback: number,
  min = 1,
  max = 1_000_000,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `--${flag} must be an integer from ${min} to ${max}, got "${value}"`,
    );
  }
  return n;
}

export function numberOption(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= min || n > max) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `--${flag} must be a number in (${min}, ${max}], got "${value}"`,
    );
  }
  return n;
}

export function partitionOption(value: string | undefined): PartitionScheme {
  return parsePartitionScheme(value ?? 'iid');
}

export function backendOption(value: string | undefined): 'auto' | 'tensorflow' | 'wasm' | 'cpu' {
  const backend = value ?? 'auto';
  if (backend === 'auto' || backend === 'tensorflow' || backend === 'wasm' || backend === 'cpu')
    return backend;
  throw new FedlearnError(
    'INVALID_CONFIG',
    `--backend must be auto, tensorflow, wasm or cpu, got "${backend}"`,
  );
}

/** A secret from the environment; never from argv, where other users of the machine can read it. */
export function tokenFromEnv(env: Record<string, string | undefined>, name: string): string {
  const token = secretFromEnv(env, name);
  if (!token) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `set ${name} to the coordinator's token (it is printed when the server starts)`,
    );
  }
  return token;
}

/**
 * A secret from `NAME`, or from the file named by `NAME_FILE` (Docker and Kubernetes secrets); never
 * from argv. Undefined when neither is set; both set is ambiguous and refused.
 */
export function secretFromEnv(env: Record<string, string | undefined>, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) {
    throw new FedlearnError('INVALID_CONFIG', `set ${name} or ${name}_FILE, not both`);
  }
  if (!file) return direct || undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FedlearnError('INVALID_CONFIG', `cannot read ${name}_FILE`, { cause: error });
  }
  const secret = text.trim();
  if (!secret) throw new FedlearnError('INVALID_CONFIG', `${name}_FILE names an empty file`);
  return secret;
}

/** `--tls-cert` and `--tls-key` together, or neither: one alone is an error, never plain HTTP. */
export function tlsOption(
  cert: string | undefined,
  key: string | undefined,
): { cert: string; key: string } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (!cert || !key) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `--tls-cert and --tls-key go together: give both to serve https/wss (got only ${cert ? '--tls-cert' : '--tls-key'})`,
    );
  }
  return { cert, key };
}

/** `--client-auth`: how a hello proves its client id (see the coordinator's `clientAuth`). */
export function clientAuthOption(value: string | undefined): 'token' | 'enrolled' {
  const mode = value ?? 'token';
  if (mode === 'token' || mode === 'enrolled') return mode;
  throw new FedlearnError('INVALID_CONFIG', `--client-auth must be token or enrolled, got "${mode}"`);
}
