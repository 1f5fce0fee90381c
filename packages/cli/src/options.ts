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
  const token = env[name];
  if (!token) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `set ${name} to the coordinator's token (it is printed when the server starts)`,
    );
  }
  return token;
}
