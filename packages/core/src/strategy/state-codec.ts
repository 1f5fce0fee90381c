import { FedlearnError } from '../errors.js';
import type { StrategyState } from './types.js';

/** `StrategyState` as plain JSON: its float64 tensors as base64 of their little-endian bytes. */
export interface StrategyStateJson {
  name: string;
  options: Record<string, unknown>;
  round?: number;
  tensors: Record<string, string>;
}

/**
 * Encodes a strategy's state for a durable store (JSON only), bit-exact for every float64.
 *
 * @example
 * await store.putStrategyState(jobId, round, strategyStateToJson(strategy.state()));
 */
export function strategyStateToJson(state: StrategyState): StrategyStateJson {
  const tensors: Record<string, string> = {};
  for (const [name, values] of Object.entries(state.tensors)) tensors[name] = toBase64(float64Bytes(values));
  return {
    name: state.name,
    options: state.options,
    ...(state.round === undefined ? {} : { round: state.round }),
    tensors,
  };
}

/** Decodes what `strategyStateToJson` wrote; anything else is `INVALID_ARGUMENT`. */
export function strategyStateFromJson(json: unknown): StrategyState {
  const value = json as Partial<StrategyStateJson> | null;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof value.name !== 'string' ||
    typeof value.options !== 'object' ||
    value.options === null ||
    typeof value.tensors !== 'object' ||
    value.tensors === null ||
    (value.round !== undefined && !Number.isSafeInteger(value.round))
  ) {
    throw new FedlearnError('INVALID_ARGUMENT', 'stored strategy state is not in the expected form');
  }
  const tensors: Record<string, Float64Array> = Object.create(null);
  for (const [name, encoded] of Object.entries(value.tensors)) {
    const bytes = typeof encoded === 'string' ? fromBase64(encoded) : undefined;
    if (!bytes || bytes.length % 8 !== 0) {
      throw new FedlearnError(
        'INVALID_ARGUMENT',
        `stored strategy tensor ${JSON.stringify(name.slice(0, 64))} is malformed`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float64Array(bytes.length / 8);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, true);
    tensors[name] = values;
  }
  return {
    name: value.name,
    options: value.options,
    ...(value.round === undefined ? {} : { round: value.round }),
    tensors,
  };
}

function float64Bytes(values: Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
