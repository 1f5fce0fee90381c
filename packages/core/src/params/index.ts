export * from './codec.js';
export * from './tensors.js';
export * from './tfjs-artifacts.js';
