export * from './client-session.js';
export * from './secagg-participant.js';
export * from './types.js';
