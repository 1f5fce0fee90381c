export { createSecAggClient, type SecAggClient, type SecAggInput } from './client.js';
export {
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
export { tweetnaclX25519, type X25519 } from './keys.js';
export * from './messages.js';
export { packedLength, packVector, unpackVector } from './packing.js';
export { dequantizeSum, quantizeWeighted } from './quantize.js';
export type { SecAggOutbound, SecAggResult, SecAggServerStep, SecAggStage } from './round-types.js';
export { createSecAggServerRound, SecAggServerRound } from './server.js';
export {
  SECAGG_CLIENT_STAGES,
  type SecAggClientStage,
  type SecAggMeasure,
  type SecAggSimulation,
  type SecAggSimulationOptions,
  simulateSecAggRound,
} from './simulate.js';
export { decodeSecAggMessage, encodeSecAggMessage, SECAGG_WIRE_VERSION } from './wire.js';
