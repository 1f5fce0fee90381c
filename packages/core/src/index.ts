export * from './aggregate/index.js';
export * from './clock.js';
export * from './data/index.js';
export * from './errors.js';
export * from './params/index.js';
export * from './protocol/index.js';
export * from './random.js';
export * from './strategy/index.js';
