import { describe, expect, it } from 'vitest';
import { createRng, seededRandomBytes } from '../random.js';
import { addSkellamNoise, cryptoRng, poisson } from './noise.js';

function moments(values: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] as number) - mean) ** 2;
  return { mean, variance: squares / (values.length - 1) };
}

describe('DP noise samplers', () => {
  // 20 000 seeded draws: the sample mean's standard error is √(μ/20000) and the sample variance's
  // relative standard error is about √(2/20000) = 1%; the bounds below are 4 standard errors.
  it.each([0.5, 4, 9.5, 10, 37, 1e4, 1e9])('Poisson(%d) has mean and variance μ', (mu) => {
    const rng = createRng(7);
    const draws = Float64Array.from({ length: 20_000 }, () => poisson(mu, rng));
    const { mean, variance } = moments(draws);
    expect(Math.abs(mean - mu)).toBeLessThan(4 * Math.sqrt(mu / 20_000));
    expect(Math.abs(variance / mu - 1)).toBeLessThan(0.04 + 4 * Math.sqrt(2 / 20_000));
    expect(draws.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
  });

  it('Skellam noise is whole steps of the quantum with variance 2μ', () => {
    const quantum = 0.125;
    const values = new Float64Array(20_000);
    addSkellamNoise(values, 50, quantum, createRng(3));
    expect(values.every((v) => Number.isInteger(v / quantum))).toBe(true);
    const { mean, variance } = moments(Float64Array.from(values, (v) => v / quantum));
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(100 / 20_000));
    expect(Math.abs(variance / 100 - 1)).toBeLessThan(0.06);
  });

  it('cryptoRng draws uniforms in [0, 1) and standard normals from the bytes it is given', () => {
    const rng = cryptoRng(seededRandomBytes(5));
    const uniforms = Float64Array.from({ length: 20_000 }, () => rng.next());
    expect(uniforms.every((u) => u >= 0 && u < 1)).toBe(true);
    expect(Math.abs(moments(uniforms).mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / 20_000));
    const normals = Float64Array.from({ length: 20_000 }, () => rng.normal());
    const { mean, variance } = moments(normals);
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(1 / 20_000));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / 20_000));
    // Same bytes, same draws: the source is the injected byte stream and nothing else.
    const again = cryptoRng(seededRandomBytes(5));
    expect(again.next()).toBe(uniforms[0]);
  });
});
