// Small helpers the benchmarks share.

/** A weighted sample of a model: equal for equal models, and keeps the work from being optimised away. */
export function checksum(model) {
  let s = 0;
  for (let i = 0; i < model.length; i += 97) s += model[i] * ((i % 13) + 1);
  return s;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
