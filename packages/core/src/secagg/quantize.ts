import type { FedlearnError } from '../errors.js';
import type { SecAggParams } from './config.js';
import { secaggError } from './errors.js';
import { type Keystream, keystreamWords, portableKeystream } from './prg.js';

function inputError(code: FedlearnError['code'], message: string, details: Record<string, unknown>) {
  return secaggError(code, message, undefined, details);
}

/**
 * Clips each coordinate to [-c, c], maps it to [0, L] and rounds stochastically (up with probability
 * equal to the fractional part, so the rounding is unbiased), then returns [w, w·q_1, ..., w·q_d]
 * in Z_(2^b). The rounding noise comes from the ChaCha20 stream of `noiseSeed`.
 */
export function quantizeWeighted(
  params: SecAggParams,
  update: Float32Array | Float64Array,
  weight: number,
  noiseSeed: Uint8Array,
  keystream: Keystream = portableKeystream,
): Uint32Array {
  if (update.length !== params.dimension) {
    throw inputError('INVALID_ARGUMENT', `update has ${update.length} values, expected ${params.dimension}`, {
      length: update.length,
      dimension: params.dimension,
    });
  }
  if (!Number.isInteger(weight) || weight < 0) {
    throw inputError('INVALID_ARGUMENT', `weight must be a non-negative integer, got ${weight}`, { weight });
  }
  if (weight > params.maxWeight) {
    throw inputError('SECAGG_WEIGHT_TOO_LARGE', `weight ${weight} exceeds maxWeight ${params.maxWeight}`, {
      weight,
      maxWeight: params.maxWeight,
    });
  }
  const { clipRange: c, levels: L } = params;
  const scale = L / (2 * c);
  const noise = keystreamWords(noiseSeed, update.length, keystream);
  const out = new Uint32Array(params.vectorLength);
  out[0] = weight;
  for (let i = 0; i < update.length; i++) {
    const x = update[i] as number;
    if (!Number.isFinite(x)) {
      throw inputError('PARAMS_NOT_FINITE', `update[${i}] is not finite`, { index: i });
    }
    const clipped = Math.min(c, Math.max(-c, x));
    const y = (clipped + c) * scale;
    const floor = Math.floor(y);
    // y can land exactly on L, where rounding up would leave the range.
    const q = Math.min(L, floor + ((noise[i] as number) < (y - floor) * 4294967296 ? 1 : 0));
    out[i + 1] = weight * q;
  }
  return out;
}

/**
 * Turns the ring sum [Σw, Σ w·q_i] back into real numbers: Σw and Σ w·x̂_i with
 * x̂ = -c + q·2c/L. Exact integer sums in, one rounding per coordinate out.
 */
export function dequantizeSum(
  params: SecAggParams,
  sum: Uint32Array,
): { sumWeights: number; weightedSum: Float64Array } {
  const sumWeights = sum[0] as number;
  const step = (2 * params.clipRange) / params.levels;
  const offset = -params.clipRange * sumWeights;
  const weightedSum = new Float64Array(params.dimension);
  for (let i = 0; i < params.dimension; i++) weightedSum[i] = offset + step * (sum[i + 1] as number);
  return { sumWeights, weightedSum };
}

/**
 * The bounds honest inputs keep (Σw ≤ survivors·W, each Σ w·q_i ≤ Σw·L), checked on the unmasked
 * sum. A client can still send any value within them: bounding one client needs input-validity
 * proofs, which this protocol does not have.
 */
export function checkSumInRange(params: SecAggParams, sum: Uint32Array, survivors: number): void {
  const sumWeights = sum[0] as number;
  const most = survivors * params.maxWeight;
  if (sumWeights > most) {
    throw inputError(
      'SECAGG_INPUT_OUT_OF_RANGE',
      `the weights sum to more than ${survivors} clients can send`,
      {
        survivors,
        maxWeight: params.maxWeight,
      },
    );
  }
  const bound = sumWeights * params.levels;
  for (let i = 1; i < sum.length; i++) {
    if ((sum[i] as number) > bound) {
      throw inputError(
        'SECAGG_INPUT_OUT_OF_RANGE',
        `coordinate ${i - 1} of the sum is outside what the weights allow`,
        {
          index: i - 1,
        },
      );
    }
  }
}
