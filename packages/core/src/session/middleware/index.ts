export * from './privacy-mods.js';
export * from './secagg-mod.js';
export * from './types.js';
export * from './update.js';
