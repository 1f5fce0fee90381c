/** The L2 norm of a vector, summed in float64. */
export function l2Norm(values: Float32Array | Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    sum += v * v;
  }
  return Math.sqrt(sum);
}

/**
 * Scales `values` in place so that its L2 norm is at most `clipNorm` (DP-FedAvg's per-update
 * clipping, McMahan et al., ICLR 2018: Δ·min(1, C/‖Δ‖)). Returns the norm before clipping.
 */
export function clipToNorm(values: Float64Array, clipNorm: number): number {
  const norm = l2Norm(values);
  if (norm > clipNorm) {
    const scale = clipNorm / norm;
    for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) * scale;
  }
  return norm;
}
