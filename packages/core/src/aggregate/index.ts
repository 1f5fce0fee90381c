export { comparatorNetwork, sortWithNetwork } from './selection-network.js';
export { UpdateBuffer } from './update-buffer.js';
export {
  createWeightedSum,
  isWasmSimdSupported,
  type WeightedSum,
  type WeightedSumKernel,
  type WeightedSumOptions,
} from './weighted-sum.js';
