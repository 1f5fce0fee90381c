export * from './tensors.js';
export * from './tfjs-artifacts.js';
export * from './codec.js';
