import { isFedlearnError } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { formatModelUri, parseModelUri } from './names.js';
import { DEFAULT_PROMOTION_POLICY, decidePromotion } from './promotion.js';
import type { ModelVersionInfo } from './types.js';

const version = (n: number, metrics: Record<string, number>): ModelVersionInfo => ({
  name: 'm',
  version: n,
  createdAt: '',
  aliases: [],
  source: '',
  metrics,
  tags: {},
});

describe('promotion policy', () => {
  it('promotes when there is no champion, and only on a strict gain of at least minDelta', () => {
    const p = DEFAULT_PROMOTION_POLICY;
    expect(decidePromotion(p, version(1, { accuracy: 0.5 }), null).promote).toBe(true);
    expect(decidePromotion(p, version(2, { accuracy: 0.5 }), version(1, { accuracy: 0.5 })).promote).toBe(
      false,
    );
    expect(decidePromotion(p, version(2, { accuracy: 0.51 }), version(1, { accuracy: 0.5 })).promote).toBe(
      true,
    );
    const margin = { ...p, minDelta: 0.02 };
    expect(
      decidePromotion(margin, version(2, { accuracy: 0.51 }), version(1, { accuracy: 0.5 })).promote,
    ).toBe(false);
    expect(
      decidePromotion(margin, version(2, { accuracy: 0.53 }), version(1, { accuracy: 0.5 })).promote,
    ).toBe(true);
  });

  it('minimises loss-like metrics and refuses a challenger without the metric', () => {
    const loss = { metric: 'loss', direction: 'min' as const, minDelta: 0 };
    expect(decidePromotion(loss, version(2, { loss: 0.3 }), version(1, { loss: 0.4 })).promote).toBe(true);
    expect(decidePromotion(loss, version(2, { loss: 0.5 }), version(1, { loss: 0.4 })).promote).toBe(false);
    const missing = decidePromotion(loss, version(2, {}), version(1, { loss: 0.4 }));
    expect(missing).toMatchObject({ promote: false, reason: 'challenger v2 has no loss' });
  });
});

describe('model URIs', () => {
  it('parses models:/<name>@<alias> and models:/<name>/<version>', () => {
    expect(parseModelUri('models:/mnist@champion')).toEqual({ name: 'mnist', alias: 'champion' });
    expect(parseModelUri('models:/mnist/12')).toEqual({ name: 'mnist', version: 12 });
    expect(formatModelUri({ name: 'mnist', version: 12 })).toBe('models:/mnist/12');
  });

  it('rejects malformed URIs, names and versions with INVALID_ARGUMENT', () => {
    for (const uri of [
      'mnist@champion',
      'models:/mnist',
      'models:/mnist/0',
      'models:/mnist/x',
      'models:/../x/1',
      'models:/m@latest',
      'runs:/abc/model',
    ]) {
      let error: unknown;
      try {
        parseModelUri(uri);
      } catch (e) {
        error = e;
      }
      expect(isFedlearnError(error, 'INVALID_ARGUMENT'), uri).toBe(true);
    }
  });
});
