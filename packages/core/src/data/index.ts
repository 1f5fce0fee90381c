export * from './partition.js';
export * from './signature-check.js';
