import { FedlearnError } from '@fedlearn/core';
import { assertAlias, assertModelName, CHAMPION, formatModelUri, parseVersion } from '@fedlearn/registry';

/** What to serve: a registered model followed through an alias, or pinned to one version. */
export type ModelTarget = { name: string; alias: string } | { name: string; version: number };

/**
 * Parses `name`, `name@alias`, `name/version` or the same as a `models:/` URI; the alias defaults
 * to `champion`.
 *
 * @example parseModelTarget('mnist-mlp') // { name: 'mnist-mlp', alias: 'champion' }
 */
export function parseModelTarget(text: string): ModelTarget {
  const spec = text.startsWith('models:/') ? text.slice('models:/'.length) : text;
  const match = /^([^/@]+)(?:@([^/@]+)|\/([^/@]+))?$/.exec(spec);
  if (!match) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `cannot serve ${JSON.stringify(text)}: expected name, name@alias or name/version`,
    );
  }
  const name = match[1]!;
  assertModelName(name);
  if (match[3] !== undefined) return { name, version: parseVersion(match[3]) };
  const alias = match[2] ?? CHAMPION;
  assertAlias(alias);
  return { name, alias };
}

export function targetUri(target: ModelTarget): string {
  return formatModelUri(target);
}
