import { afterEach, describe, expect, it, vi } from 'vitest';
import { isFedlearnError } from '../errors.js';
import { createRng, type Rng } from '../random.js';
import { MAX_WASM_LENGTH, STAGING_FLOATS } from './wasm-accumulator.js';
import { createWeightedSum, isWasmSimdSupported, type WeightedSum } from './weighted-sum.js';

const KERNELS = ['wasm-simd', 'js'] as const;

/** The error code `fn` throws, so each bad-input test names the exact code it expects. */
function codeOf(fn: () => unknown, isTyped = isFedlearnError): string | undefined {
  try {
    fn();
  } catch (error) {
    return isTyped(error) ? error.code : `not a FedlearnError: ${String(error)}`;
  }
  return undefined;
}

interface Case {
  length: number;
  updates: Float32Array[];
  weights: number[];
}

// Lengths that exercise the 8-wide loop, its scalar tail, and the staging chunk boundaries.
const EDGE_LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, STAGING_FLOATS - 1, STAGING_FLOATS + 3];

function randomCase(rng: Rng, length: number): Case {
  const n = 1 + rng.int(6);
  const updates: Float32Array[] = [];
  const weights: number[] = [];
  for (let k = 0; k < n; k++) {
    const scale = 10 ** (rng.next() * 6 - 3);
    const update = new Float32Array(length);
    for (let i = 0; i < length; i++) update[i] = rng.normal() * scale;
    updates.push(update);
    // Example counts are integers; fractional weights must work too.
    weights.push(rng.next() < 0.5 ? 1 + rng.int(5000) : rng.next() * 100 + 1e-3);
  }
  return { length, updates, weights };
}

/** Float64 reference, parameter by parameter, plus Σ w·|u| per parameter to scale the tolerance. */
function reference({ length, updates, weights }: Case): { sum: Float64Array; magnitude: Float64Array } {
  const sum = new Float64Array(length);
  const magnitude = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    let s = 0;
    let m = 0;
    updates.forEach((update, k) => {
      const term = (weights[k] as number) * (update[i] as number);
      s += term;
      m += Math.abs(term);
    });
    sum[i] = s;
    magnitude[i] = m;
  }
  return { sum, magnitude };
}

function fold(kernel: (typeof KERNELS)[number], c: Case): WeightedSum {
  const ws = createWeightedSum(c.length, { kernel });
  for (const [k, update] of c.updates.entries()) ws.add(update, c.weights[k] as number);
  return ws;
}

/** Largest error relative to the magnitude of the terms summed, the scale rounding error lives on. */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: ArrayLike<number>) {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs((actual[i] as number) - (expected[i] as number));
    if (error > 0) worst = Math.max(worst, error / (scale[i] as number));
  }
  return worst;
}

// A count, not toEqual: diffing two 65k-element arrays on failure takes vitest about a minute.
function countDifferences(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let differences = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (!Object.is(a[i], b[i])) differences++;
  return differences;
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('createWeightedSum', () => {
  it('runs the wasm SIMD kernel by default on Node', () => {
    expect(isWasmSimdSupported()).toBe(true);
    expect(createWeightedSum(10).kernel).toBe('wasm-simd');
    expect(createWeightedSum(10, { kernel: 'js' }).kernel).toBe('js');
  });

  for (const kernel of KERNELS) {
    describe(`${kernel} kernel`, () => {
      it('matches a float64 reference on random inputs (seeded)', () => {
        for (let seed = 1; seed <= 40; seed++) {
          const rng = createRng(seed);
          const length =
            seed <= EDGE_LENGTHS.length ? (EDGE_LENGTHS[seed - 1] as number) : 1 + rng.int(70_000);
          const c = randomCase(rng, length);
          const ws = fold(kernel, c);
          const { sum, magnitude } = reference(c);
          const total = c.weights.reduce((a, b) => a + b, 0);

          expect(ws.count).toBe(c.updates.length);
          expect(ws.totalWeight).toBe(total);
          // 1e-12 for the float64 sum, far tighter than the 1e-6 asked of the mean: a float32
          // accumulator fails it.
          const context = `seed ${seed}, D=${length}`;
          expect(maxRelativeError(ws.sum(), sum, magnitude), context).toBeLessThanOrEqual(1e-12);
          const meanScale = magnitude.map((m) => m / total);
          const expectedMean = sum.map((s) => s / total);
          expect(maxRelativeError(ws.mean(), expectedMean, meanScale), context).toBeLessThanOrEqual(1e-6);
        }
      });

      it('averages a single parameter exactly', () => {
        const ws = createWeightedSum(1, { kernel });
        ws.add(Float32Array.of(1), 1);
        ws.add(Float32Array.of(4), 2);
        expect(ws.sum()).toEqual(Float64Array.of(9));
        expect(ws.mean()).toEqual(Float32Array.of(3));
        expect(ws.length).toBe(1);
      });

      it('starts over after reset() and reuses its memory', () => {
        const c = randomCase(createRng(7), 1003);
        const ws = fold(kernel, c);
        ws.reset();
        expect(ws.count).toBe(0);
        expect(ws.totalWeight).toBe(0);
        expect(ws.sum().every((x) => x === 0)).toBe(true);
        expect(codeOf(() => ws.mean())).toBe('AGGREGATION_EMPTY');
        for (const [k, update] of c.updates.entries()) ws.add(update, c.weights[k] as number);
        expect(ws.sum()).toEqual(fold(kernel, c).sum());
      });

      it('hands out copies, never its own memory', () => {
        const ws = createWeightedSum(5, { kernel });
        ws.add(Float32Array.of(1, 2, 3, 4, 5), 2);
        const sum = ws.sum();
        const mean = ws.mean();
        sum.fill(-1);
        mean.fill(-1);
        expect(ws.sum()).toEqual(Float64Array.of(2, 4, 6, 8, 10));
        expect(ws.mean()).toEqual(Float32Array.of(1, 2, 3, 4, 5));
      });

      it('rejects every bad input with a typed error and loses nothing', () => {
        const ws = createWeightedSum(4, { kernel });
        ws.add(Float32Array.of(1, 2, 3, 4), 1);
        const before = ws.sum();
        expect(codeOf(() => ws.add(new Float32Array(3), 1))).toBe('PARAMS_SHAPE_MISMATCH');
        expect(codeOf(() => ws.add(new Float32Array(5), 1))).toBe('PARAMS_SHAPE_MISMATCH');
        expect(codeOf(() => ws.add(new Float64Array(4) as unknown as Float32Array, 1))).toBe(
          'INVALID_ARGUMENT',
        );
        for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          expect(
            codeOf(() => ws.add(new Float32Array(4), weight)),
            String(weight),
          ).toBe('INVALID_ARGUMENT');
        }
        expect(codeOf(() => ws.add(new Float32Array(4), '2' as unknown as number))).toBe('INVALID_ARGUMENT');
        ws.add(new Float32Array(4), 1e308);
        expect(codeOf(() => ws.add(new Float32Array(4), 1e308))).toBe('INVALID_ARGUMENT');
        expect(ws.count).toBe(2);
        expect(ws.sum()).toEqual(before);
      });

      it('throws AGGREGATION_EMPTY from mean() before any update', () => {
        expect(codeOf(() => createWeightedSum(3, { kernel }).mean())).toBe('AGGREGATION_EMPTY');
      });

      it('refuses any use after dispose()', () => {
        const ws = createWeightedSum(3, { kernel });
        ws.add(Float32Array.of(1, 2, 3), 1);
        ws.dispose();
        ws.dispose();
        expect(codeOf(() => ws.add(Float32Array.of(1, 2, 3), 1))).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => ws.mean())).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => ws.sum())).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => ws.reset())).toBe('INVALID_ARGUMENT');
      });
    });
  }

  it('gives bit-identical results from both kernels', () => {
    const c = randomCase(createRng(99), STAGING_FLOATS * 2 + 13);
    const wasm = fold('wasm-simd', c);
    const js = fold('js', c);
    expect(countDifferences(wasm.sum(), js.sum())).toBe(0);
    expect(countDifferences(wasm.mean(), js.mean())).toBe(0);
  });

  it('rejects a bad length or kernel name with INVALID_ARGUMENT', () => {
    for (const length of [
      0,
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53,
      '3' as unknown as number,
    ]) {
      expect(
        codeOf(() => createWeightedSum(length)),
        String(length),
      ).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => createWeightedSum(4, { kernel: 'gpu' as 'js' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createWeightedSum(MAX_WASM_LENGTH + 1, { kernel: 'wasm-simd' }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('falls back to JS without wasm SIMD, and refuses an explicit wasm-simd', async () => {
    vi.stubGlobal('WebAssembly', { ...WebAssembly, validate: () => false });
    // Fresh modules, so the cached compile result is re-decided under the stub.
    const fresh = await import('./weighted-sum.js');
    const { isFedlearnError: isFreshError } = await import('../errors.js');
    expect(fresh.isWasmSimdSupported()).toBe(false);
    expect(fresh.createWeightedSum(8).kernel).toBe('js');
    expect(codeOf(() => fresh.createWeightedSum(8, { kernel: 'wasm-simd' }), isFreshError)).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('falls back to JS where WebAssembly does not exist', async () => {
    vi.stubGlobal('WebAssembly', undefined);
    const fresh = await import('./weighted-sum.js');
    expect(fresh.createWeightedSum(8).kernel).toBe('js');
  });
});
