export * from './clip.js';
export * from './distributed-noise.js';
export * from './noise.js';
export * from './privacy-ledger.js';
export * from './privacy-spec.js';
export * from './private-strategy.js';
export * from './rdp-accountant.js';
