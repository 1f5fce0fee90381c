export {
  createSecAggClient,
  type SecAggClient,
  type SecAggClientOptions,
  type SecAggInput,
} from './client.js';
export {
  cappedMaxWeight,
  defaultNeighbours,
  defaultThreshold,
  MAX_RING_BITS,
  recommendNeighbourhood,
  resolveSecAggParams,
  ringBitsFor,
  type SecAggConfig,
  SecAggConfigSchema,
  type SecAggParams,
} from './config.js';
export { neighbourGraph } from './graph.js';
export {
  generateIdentity,
  type IdentityKey,
  identityFromSecret,
} from './identity.js';
export { portableX25519, type X25519 } from './keys.js';
export type { ClientIdentity } from './malicious.js';
export * from './messages.js';
export { packedLength, packVector, unpackVector } from './packing.js';
export {
  checkPlainRoundAllowed,
  checkSecAggPolicy,
  type SecAggPolicy,
  SecAggPolicySchema,
} from './policy.js';
export {
  addMask,
  applyMasks,
  checkMaskArgs,
  type Keystream,
  keystreamWords,
  type MaskJob,
  portableKeystream,
} from './prg.js';
export { checkSumInRange, dequantizeSum, quantizeWeighted } from './quantize.js';
export type { SecAggOutbound, SecAggResult, SecAggServerStep, SecAggStage } from './round-types.js';
export { createSecAggServerRound, SecAggServerRound } from './server.js';
export type { SecAggMode } from './session.js';
export { decodeSecAggMessage, encodeSecAggMessage, SECAGG_WIRE_VERSION } from './wire.js';
