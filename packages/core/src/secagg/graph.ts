import { keystreamWords } from './prg.js';

/**
 * The SecAgg+ neighbour graph (Bell et al. 2020): a random k-regular Harary graph. Participants are
 * shuffled with the ChaCha20 stream of `seed`, placed on a ring, and each is joined to the k/2
 * nearest on either side (everyone, when k = n - 1). Every party derives the same graph from the
 * seed in the setup message. Returns, per participant index, its neighbours' indices, sorted.
 */
export function neighbourGraph(n: number, k: number, seed: Uint8Array): number[][] {
  if (k >= n - 1) {
    return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => j).filter((j) => j !== i));
  }
  const order = shuffledIndices(n, seed);
  const position = new Array<number>(n);
  order.forEach((node, pos) => {
    position[node] = pos;
  });
  const half = k / 2;
  return Array.from({ length: n }, (_, node) => {
    const pos = position[node] as number;
    const out: number[] = [];
    for (let step = 1; step <= half; step++) {
      out.push(order[(pos + step) % n] as number, order[(pos - step + n) % n] as number);
    }
    return out.sort((a, b) => a - b);
  });
}

function shuffledIndices(n: number, seed: Uint8Array): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let words = keystreamWords(seed, 2 * n + 64);
  let next = 0;
  const uniformBelow = (bound: number): number => {
    // Rejection sampling keeps the shuffle exactly uniform.
    const limit = 4294967296 - (4294967296 % bound);
    for (;;) {
      // The stream's prefix is unchanged when it is extended, so the shuffle stays deterministic.
      if (next >= words.length) words = keystreamWords(seed, words.length * 2);
      const w = words[next++] as number;
      if (w < limit) return w % bound;
    }
  };
  for (let i = n - 1; i > 0; i--) {
    const j = uniformBelow(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
