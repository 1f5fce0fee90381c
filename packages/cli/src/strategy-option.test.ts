import { describe, expect, it } from 'vitest';
import { strategyHelp, strategyOption } from './strategy-option.js';

describe('--strategy', () => {
  it('reads a name and numeric options', () => {
    expect(strategyOption(undefined)).toEqual({ name: 'fedavg' });
    expect(strategyOption('fedadam:eta=0.01,tau=1e-3')).toEqual({ name: 'fedadam', eta: 0.01, tau: 0.001 });
    expect(strategyOption('krum:byzantine=2')).toEqual({ name: 'krum', byzantine: 2 });
  });

  it('refuses an unknown strategy and malformed options, naming the problem', () => {
    expect(() => strategyOption('fedmagic')).toThrow(/unknown strategy "fedmagic"/);
    expect(() => strategyOption('fedadam:eta')).toThrow(/KEY=NUMBER/);
    expect(() => strategyOption('fedadam:eta=fast')).toThrow(/KEY=NUMBER/);
    expect(() => strategyOption('fedadam:__proto__=1')).toThrow(/KEY=NUMBER/);
  });

  it('lists every strategy in the help', () => {
    for (const name of ['fedavg', 'fedprox', 'fedyogi', 'median', 'bulyan'])
      expect(strategyHelp()).toContain(name);
  });
});
