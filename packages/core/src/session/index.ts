export * from './client-session.js';
export * from './types.js';
