export {
  createWeightedSum,
  isWasmSimdSupported,
  type WeightedSum,
  type WeightedSumKernel,
  type WeightedSumOptions,
} from './weighted-sum.js';
