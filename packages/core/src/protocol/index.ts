export * from './frame-sender.js';
export * from './framing.js';
export * from './messages.js';
export * from './peer-values.js';
export * from './version.js';
