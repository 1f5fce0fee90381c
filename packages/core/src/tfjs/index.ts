export * from './backend.js';
export * from './fingerprint.js';
export * from './layers-trainer.js';
export * from './proximal-term.js';
export * from './tf-api.js';
