export * from './fedavg.js';
export * from './registry.js';
export * from './sampled-strategy.js';
export * from './sampling.js';
export * from './strategy-options.js';
export * from './streaming-average.js';
export * from './types.js';
