export * from './framing.js';
export * from './messages.js';
export * from './version.js';
