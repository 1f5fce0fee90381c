export * from './backoff.js';
export * from './client-session.js';
export * from './middleware/index.js';
export * from './secagg-participant.js';
export * from './socket-connection.js';
export * from './types.js';
