import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { PrivacyLedger } from './privacy-ledger.js';
import { NO_PRIVACY, type PrivacySpec, planPrivacy, privacySpent } from './privacy-spec.js';
import { computeEpsilon } from './rdp-accountant.js';

const central: PrivacySpec = { ...NO_PRIVACY, mode: 'central', noiseMultiplier: 1.1, clipNorm: 0.5 };

describe('privacy budget', () => {
  it('the ledger reports, after each round, the ε of that many rounds at δ', () => {
    const ledger = new PrivacyLedger(central);
    for (let round = 1; round <= 5; round++) {
      const spent = ledger.record(0.3);
      const expected = computeEpsilon({ samplingRate: 0.3, noiseMultiplier: 1.1, steps: round }, 1e-5);
      expect(spent.steps).toBe(round);
      expect(spent.epsilon).toBeCloseTo(expected.epsilon, 10);
    }
    // Rounds at different rates compose: q = 1 after q = 0.3 costs more than another q = 0.3.
    const mixed = new PrivacyLedger(central);
    mixed.record(0.3);
    const once = mixed.spent().epsilon;
    expect(mixed.record(1).epsilon).toBeGreaterThan(privacySpent(central, 0.3, 2).epsilon);
    expect(mixed.spent().epsilon).toBeGreaterThan(once);
  });

  it('refuses a plan over the target, naming how many rounds would fit', () => {
    const spec = { ...central, noiseMultiplier: 3.2, targetEpsilon: 8 };
    expect(planPrivacy(spec, 1, 20).epsilon).toBeLessThanOrEqual(8);
    let error: unknown;
    try {
      planPrivacy(spec, 1, 40);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FedlearnError);
    expect((error as FedlearnError).code).toBe('PRIVACY_BUDGET_EXCEEDED');
    const fit = (error as FedlearnError).details?.roundsWithinBudget as number;
    expect(privacySpent(spec, 1, fit).epsilon).toBeLessThanOrEqual(8);
    expect(privacySpent(spec, 1, fit + 1).epsilon).toBeGreaterThan(8);
  });

  it('with onBudgetExceeded "stop", plans the last round within budget, and the ledger agrees', () => {
    const spec: PrivacySpec = {
      ...central,
      noiseMultiplier: 3.2,
      targetEpsilon: 8,
      onBudgetExceeded: 'stop',
    };
    const plan = planPrivacy(spec, 1, 40);
    expect(plan.stoppedEarly?.requested).toBe(40);
    expect(plan.epsilon).toBeLessThanOrEqual(8);
    const ledger = new PrivacyLedger(spec);
    let rounds = 0;
    while (ledger.allows(1)) {
      ledger.record(1);
      rounds++;
    }
    expect(rounds).toBe(plan.rounds);
    expect(ledger.spent().epsilon).toBeCloseTo(plan.epsilon, 10);
  });

  it('refuses even with "stop" when not one round fits', () => {
    const spec: PrivacySpec = {
      ...central,
      noiseMultiplier: 0.3,
      targetEpsilon: 0.5,
      onBudgetExceeded: 'stop',
    };
    expect(() => planPrivacy(spec, 1, 10)).toThrow(/0 rounds fit/);
  });
});
