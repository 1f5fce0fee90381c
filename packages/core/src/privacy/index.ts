export * from './rdp-accountant.js';
