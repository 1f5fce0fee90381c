import { FedlearnError } from '@fedlearn/core';

/** The alias serving loads; fedlearn manages aliases only (MLflow stages are deprecated, never used). */
export const CHAMPION = 'champion';
/** The alias of the newest global model of a job, before the promotion policy decides. */
export const CHALLENGER = 'challenger';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALIAS = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Checks a registered model name: letters, digits, `.`, `_`, `-`, at most 128 characters, and
 * nothing that could escape a folder (`..`, `/`).
 *
 * @example assertModelName('mnist-mlp') // ok; assertModelName('../x') throws INVALID_ARGUMENT
 */
export function assertModelName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name) || name.includes('..')) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `invalid model name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (max 128)`,
      { details: { name: String(name) } },
    );
  }
}

/** Checks an alias name; `latest` and `v<digits>` are reserved by MLflow. */
export function assertAlias(alias: unknown): asserts alias is string {
  if (typeof alias !== 'string' || !ALIAS.test(alias) || alias === 'latest' || /^v\d+$/i.test(alias)) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `invalid alias ${JSON.stringify(alias)}: letters, digits, '_' or '-', not 'latest' or 'v<number>'`,
      { details: { alias: String(alias) } },
    );
  }
}

const METRIC_KEY = /^[A-Za-z0-9_.\- /]{1,250}$/;

/** Checks a metric name the way MLflow does (letters, digits, `_ . - /` and spaces), for both backends. */
export function assertMetricKey(key: string): void {
  if (!METRIC_KEY.test(key)) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `invalid metric name ${JSON.stringify(key)}: use letters, digits, '_', '.', '-', '/' or spaces`,
      { details: { key } },
    );
  }
}

/** Parses a version number given as a number or a decimal string (`"3"`). */
export function parseVersion(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,8}$/.test(text)) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `invalid model version ${JSON.stringify(value)}: expected 1, 2, 3 ...`,
      {
        details: { version: String(value) },
      },
    );
  }
  return Number(text);
}

/** What a `models:/` URI points at. */
export type ModelRef = { name: string; version: number } | { name: string; alias: string };

/**
 * Parses `models:/<name>/<version>` or `models:/<name>@<alias>` (MLflow's model URI forms).
 *
 * @example parseModelUri('models:/mnist@champion') // { name: 'mnist', alias: 'champion' }
 */
export function parseModelUri(uri: string): ModelRef {
  const match = typeof uri === 'string' ? /^models:\/([^/@]+)(?:\/([^/@]+)|@([^/@]+))$/.exec(uri) : null;
  if (!match) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `invalid model URI ${JSON.stringify(uri)}: expected models:/<name>/<version> or models:/<name>@<alias>`,
      { details: { uri: String(uri) } },
    );
  }
  const name = match[1]!;
  assertModelName(name);
  if (match[3] !== undefined) {
    assertAlias(match[3]);
    return { name, alias: match[3] };
  }
  return { name, version: parseVersion(match[2]) };
}

/** Formats a reference back to its `models:/` URI. */
export function formatModelUri(ref: ModelRef): string {
  return 'alias' in ref ? `models:/${ref.name}@${ref.alias}` : `models:/${ref.name}/${ref.version}`;
}
