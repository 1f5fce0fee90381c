import { FedlearnError } from '../errors.js';
import { medianDefinition, trimmedMeanDefinition } from './coordinate-wise.js';
import { fedAvgDefinition } from './fedavg.js';
import { fedAdagradDefinition, fedAdamDefinition, fedAvgMDefinition, fedYogiDefinition } from './fedopt.js';
import { fedProxDefinition } from './fedprox.js';
import { bulyanDefinition, krumDefinition, multiKrumDefinition } from './krum.js';
import { SAMPLING_OPTION_NAMES, type StrategyDefinition } from './strategy-options.js';
import type { Strategy } from './types.js';

/**
 * Every strategy a job can name. Adding a strategy is a file that exports its definition and one
 * line here; the job spec, the CLI and the recorder all read this list.
 */
export const STRATEGIES: readonly StrategyDefinition[] = [
  fedAvgDefinition,
  fedProxDefinition,
  fedAvgMDefinition,
  fedAdagradDefinition,
  fedAdamDefinition,
  fedYogiDefinition,
  medianDefinition,
  trimmedMeanDefinition,
  krumDefinition,
  multiKrumDefinition,
  bulyanDefinition,
];

/** A strategy as a job names it: `name` plus that strategy's validated options, flat. */
export interface StrategySpec {
  name: string;
  fractionFit: number;
  fractionEvaluate: number;
  minFitClients: number;
  minEvaluateClients: number;
  minAvailableClients?: number;
  [option: string]: unknown;
}

export function strategyNames(): string[] {
  return STRATEGIES.map((s) => s.name);
}

export function findStrategy(name: string): StrategyDefinition {
  const definition = STRATEGIES.find((s) => s.name === name);
  if (!definition) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      `unknown strategy ${JSON.stringify(String(name).slice(0, 64))}: use one of ${strategyNames().join(', ')}`,
    );
  }
  return definition;
}

/**
 * Validates `{ name, ...options }` against the named strategy's schema: defaults filled in,
 * unknown fields, out-of-range values and impossible combinations refused.
 *
 * @throws FedlearnError `INVALID_CONFIG`, naming the offending fields.
 * @example
 * parseStrategySpec({ name: 'fedadam', eta: 0.01, minFitClients: 5 });
 */
export function parseStrategySpec(input: unknown): StrategySpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FedlearnError('INVALID_CONFIG', 'strategy must be an object with a name');
  }
  const { name = 'fedavg', ...options } = input as Record<string, unknown>;
  const definition = findStrategy(typeof name === 'string' ? name : String(name));
  const result = definition.options.safeParse(options);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 8)
      .map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`)
      .join('; ');
    throw new FedlearnError('INVALID_CONFIG', `strategy ${definition.name}: ${issues}`);
  }
  // Building it checks what the schema cannot see alone (e.g. Krum's quorum against f).
  definition.create(result.data as never);
  return { name: definition.name, ...result.data } as StrategySpec;
}

/** Builds the strategy a (validated or raw) spec names. */
export function createStrategy(spec: unknown): Strategy {
  const { name, ...options } = parseStrategySpec(spec);
  return findStrategy(name).create(options as never);
}

/**
 * The strategy and its own hyperparameters in one line, for run parameters and lineage, e.g.
 * `fedadam(eta=0.01,beta1=0.9,beta2=0.99,tau=0.001)`; sampling options are left out.
 */
export function strategyLabel(spec: StrategySpec): string {
  const own = Object.entries(spec).filter(
    ([key, value]) => key !== 'name' && !SAMPLING_OPTION_NAMES.includes(key) && value !== undefined,
  );
  if (own.length === 0) return spec.name;
  return `${spec.name}(${own.map(([key, value]) => `${key}=${String(value)}`).join(',')})`;
}
