const networks = new Map<number, Int32Array>();

/**
 * A sorting network for n values as pairs (lower, upper) of slot indices: Batcher's odd–even
 * merge sort (Knuth, TAOCP vol. 3, §5.3.4) for the next power of two, keeping only the pairs
 * inside [0, n). The pairs it drops are no-ops when slots ≥ n hold +∞, so it sorts n values
 * with O(n log² n) comparators and no branches: the shape wasm SIMD sorts 4 columns at once with.
 */
export function comparatorNetwork(n: number): Int32Array {
  const cached = networks.get(n);
  if (cached) return cached;
  const pairs: number[] = [];
  let size = 1;
  while (size < n) size *= 2;
  for (let p = 1; p < size; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      for (let j = k % p; j + k < size; j += 2 * k) {
        for (let i = 0; i < Math.min(k, size - j - k); i++) {
          const a = i + j;
          const b = i + j + k;
          if (Math.floor(a / (2 * p)) === Math.floor(b / (2 * p)) && b < n) pairs.push(a, b);
        }
      }
    }
  }
  const network = Int32Array.from(pairs);
  networks.set(n, network);
  return network;
}

/** Sorts `column` in place with `network` (pairs of slot indices). */
export function sortWithNetwork(column: Float32Array | Float64Array, network: Int32Array, scale = 1): void {
  for (let p = 0; p < network.length; p += 2) {
    const a = (network[p] as number) / scale;
    const b = (network[p + 1] as number) / scale;
    const x = column[a] as number;
    const y = column[b] as number;
    column[a] = Math.min(x, y);
    column[b] = Math.max(x, y);
  }
}
