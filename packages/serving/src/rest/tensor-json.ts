import { FedlearnError } from '@fedlearn/core';

/** Values one JSON tensor may carry at most before it is refused (the body limit bounds it too). */
export const MAX_JSON_VALUES = 16 * 1024 * 1024;

function bad(field: string, reason: string): FedlearnError {
  return new FedlearnError('INPUT_SIGNATURE_MISMATCH', `${field}: ${reason}`, { details: { field, reason } });
}

/**
 * Flattens OIP `data` (flat, or nested row-major as the spec allows) into float32 values. Only
 * numbers are accepted; the error names where the first bad value is, never the value itself.
 */
export function flattenNumbers(data: unknown, field: string, maxDepth = 8): Float32Array {
  if (!Array.isArray(data)) throw bad(field, 'must be an array of numbers');
  if (data.every((v) => typeof v === 'number')) return Float32Array.from(data as number[]);
  const out: number[] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (typeof value === 'number') {
      out.push(value);
      if (out.length > MAX_JSON_VALUES) throw bad(field, 'too many values');
      return;
    }
    if (!Array.isArray(value))
      throw bad(path, `must be a number, got ${value === null ? 'null' : typeof value}`);
    if (depth > maxDepth) throw bad(path, 'nested too deeply');
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, depth + 1);
  };
  for (let i = 0; i < data.length; i++) walk(data[i], `${field}[${i}]`, 1);
  return Float32Array.from(out);
}

/** Class index of the largest output of one row. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
