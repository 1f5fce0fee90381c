import type { Trainer } from '@fedlearn/core';

/** Never asked to train: for tests that end at the handshake or the welcome. */
export const idleTrainer: Trainer = {
  numExamples: 1,
  numEvalExamples: 0,
  backend: 'none',
  specs: () => [],
  getParameters: () => Promise.reject(new Error('not used')),
  fit: () => Promise.reject(new Error('not used')),
  evaluate: () => Promise.reject(new Error('not used')),
};
