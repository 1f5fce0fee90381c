export * from './fedavg.js';
export * from './sampling.js';
export * from './types.js';
