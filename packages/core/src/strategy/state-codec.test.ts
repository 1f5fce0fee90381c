import { describe, expect, it } from 'vitest';
import { isFedlearnError } from '../errors.js';
import { strategyStateFromJson, strategyStateToJson } from './state-codec.js';

describe('strategy state codec', () => {
  it('round-trips every float64 bit for bit through JSON text', () => {
    const momentum = new Float64Array([0.1, -0, Number.MIN_VALUE, 1e308, -123.456, 2 ** -1074, Math.PI]);
    const state = { name: 'fedavgm', options: { serverMomentum: 0.9 }, round: 7, tensors: { momentum } };
    const back = strategyStateFromJson(JSON.parse(JSON.stringify(strategyStateToJson(state))));
    expect(back.name).toBe('fedavgm');
    expect(back.round).toBe(7);
    expect(back.options).toEqual({ serverMomentum: 0.9 });
    expect(Array.from(new Uint8Array((back.tensors.momentum as Float64Array).buffer))).toEqual(
      Array.from(new Uint8Array(momentum.buffer)),
    );
  });

  it('refuses a malformed stored state with a typed error', () => {
    for (const bad of [null, 3, { name: 'x' }, { name: 'x', options: {}, tensors: { m: 'abc' } }]) {
      let caught: unknown;
      try {
        strategyStateFromJson(bad);
      } catch (error) {
        caught = error;
      }
      expect(isFedlearnError(caught, 'INVALID_ARGUMENT'), JSON.stringify(bad)).toBe(true);
    }
  });
});
