import { describe, expect, it } from 'vitest';
import { identityKeys, parseJobSpec } from '../src/job-spec.js';

const base = { rounds: 1, strategy: { minFitClients: 3 } };
const key = (i: number) => i.toString(16).padStart(2, '0').repeat(32);

describe('job spec: secagg.mode', () => {
  it('defaults to semi-honest', () => {
    expect(parseJobSpec({ ...base, secagg: { enabled: true } }).secagg.mode).toBe('semi-honest');
  });

  it('malicious needs an enrolled identity key for at least minFitClients clients', () => {
    const refused = expect.objectContaining({ code: 'INVALID_CONFIG' });
    expect(() => parseJobSpec({ ...base, secagg: { enabled: true, mode: 'malicious' } })).toThrow(refused);
    expect(() =>
      parseJobSpec({ ...base, secagg: { enabled: true, mode: 'malicious', identities: { a: key(1) } } }),
    ).toThrow(refused);
    expect(() =>
      parseJobSpec({ ...base, secagg: { enabled: true, mode: 'malicious', identities: { a: 'zz' } } }),
    ).toThrow(refused);
    const spec = parseJobSpec({
      ...base,
      secagg: { enabled: true, mode: 'malicious', identities: { a: key(1), b: key(2), c: key(3) } },
    });
    expect(identityKeys(spec).get('b')).toEqual(new Uint8Array(32).fill(2));
  });

  it('refuses t ≤ k/2 on a sparse graph', () => {
    expect(() =>
      parseJobSpec({
        ...base,
        strategy: { minFitClients: 12 },
        secagg: { enabled: true, neighbours: 4, threshold: 2 },
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
