import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { createStrategy, parseStrategySpec, STRATEGIES, strategyLabel } from './registry.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof FedlearnError ? error.code : 'not a FedlearnError';
  }
  return undefined;
};

describe('strategy registry', () => {
  it('fills in defaults and builds the named strategy', () => {
    expect(parseStrategySpec({})).toEqual({
      name: 'fedavg',
      fractionFit: 1,
      fractionEvaluate: 1,
      minFitClients: 2,
      minEvaluateClients: 1,
    });
    const strategy = createStrategy({ name: 'fedavg', minFitClients: 3 });
    expect(strategy.name).toBe('fedavg');
    expect(strategy.minFitClients).toBe(3);
  });

  it('every definition builds a strategy of its own name from its defaults', () => {
    for (const definition of STRATEGIES) {
      const strategy = createStrategy({ name: definition.name, minFitClients: 9 });
      expect(strategy.name).toBe(definition.name);
      expect(strategy.requiresIndividualUpdates).toBe(definition.requiresIndividualUpdates ?? false);
      expect(strategy.state().name).toBe(definition.name);
    }
  });

  it('refuses unknown names, unknown fields and bad values with INVALID_CONFIG', () => {
    expect(codeOf(() => parseStrategySpec({ name: 'fedmagic' }))).toBe('INVALID_CONFIG');
    expect(codeOf(() => parseStrategySpec({ name: 'fedavg', eta: 0.1 }))).toBe('INVALID_CONFIG');
    expect(codeOf(() => parseStrategySpec({ fractionFit: 2 }))).toBe('INVALID_CONFIG');
    expect(codeOf(() => parseStrategySpec({ name: 7 }))).toBe('INVALID_CONFIG');
    expect(codeOf(() => parseStrategySpec(null))).toBe('INVALID_CONFIG');
    expect(() => parseStrategySpec({ name: 'fedavg', nope: 1 })).toThrow(/nope/);
  });

  it('labels a strategy with its own options, not the sampling ones', () => {
    expect(strategyLabel(parseStrategySpec({ name: 'fedavg', minFitClients: 4 }))).toBe('fedavg');
  });

  it('refuses to restore another strategy’s state', () => {
    const strategy = createStrategy({ name: 'fedavg' });
    expect(codeOf(() => strategy.restore({ name: 'other', options: {}, tensors: {} }))).toBe(
      'INVALID_CONFIG',
    );
    strategy.restore(strategy.state());
  });
});
