import { cryptoRandomBytes, type RandomBytes, type Rng, rngFrom } from '../random.js';

/**
 * An `Rng` whose uniforms come from cryptographic bytes (53 bits each): the default source of DP
 * noise, which must not be predictable. Tests inject a seeded `createRng` instead.
 */
export function cryptoRng(randomBytes: RandomBytes = cryptoRandomBytes): Rng {
  let pool: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  let at = 0;
  const word = (): number => {
    if (at >= pool.length) {
      const bytes = randomBytes(4096);
      // A copy: the bytes may not be 4-byte aligned.
      pool = new Uint32Array(Uint8Array.from(bytes).buffer, 0, bytes.byteLength >>> 2);
      at = 0;
    }
    return pool[at++] as number;
  };
  return rngFrom(() => ((word() >>> 5) * 67108864 + (word() >>> 6)) / 9007199254740992);
}

/** Adds N(0, stddev²) to every coordinate, in place. */
export function addGaussianNoise(values: Float64Array, stddev: number, rng: Rng): void {
  for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) + stddev * rng.normal();
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log k! by Stirling's series (exact table below 10). */
function logFactorial(k: number): number {
  if (k < 10) {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    return Math.log(f);
  }
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + 1 / (12 * x) - 1 / (360 * x ** 3);
}

/**
 * One Poisson(mean) draw. Small means multiply uniforms (Knuth); large ones use the transformed
 * rejection sampler PTRS (Hörmann, "The transformed rejection method for generating Poisson random
 * variables", Insurance: Mathematics and Economics 12, 1993), exact for any mean ≥ 10.
 */
export function poisson(mean: number, rng: Rng): number {
  if (mean < 10) {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = rng.next(); p > limit; p *= rng.next()) k++;
    return k;
  }
  const slam = Math.sqrt(mean);
  const logLam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const lhs = Math.log(v * invAlpha) - Math.log(a / (us * us) + b);
    if (lhs <= -mean + k * logLam - logFactorial(k)) return k;
  }
}

/**
 * Adds Skellam(μ) noise — Poisson(μ) − Poisson(μ), integer, variance 2μ — to every coordinate, in
 * units of `quantum`, in place. Sums of Skellam draws are Skellam again (μ adds up), which is what
 * makes it the distributed noise of Agarwal, Kairouz and Liu, "The Skellam Mechanism for
 * Differentially Private Federated Learning", NeurIPS 2021.
 */
export function addSkellamNoise(values: Float64Array, mu: number, quantum: number, rng: Rng): void {
  for (let i = 0; i < values.length; i++) {
    values[i] = (values[i] as number) + quantum * (poisson(mu, rng) - poisson(mu, rng));
  }
}
