import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ModelParams,
  SessionConnection,
  type SessionConnectionOptions,
  type Trainer,
  WEIGHTS_FILE_NAME,
} from '@fedlearn/core';
import { io } from 'socket.io-client';
import { expect } from 'vitest';
import { CLIENT_TOKEN } from './harness.js';

/** Values a stand-in update adds at parameter `j`: small integers, so every mean is exact in float32. */
export const pattern = (j: number) => j % 8;

/**
 * A trainer that does no real training: its update is the global model plus `pattern(j) + delta`
 * at every parameter `j`, so the aggregate of a round is known exactly.
 */
export function standInTrainer(size: number, delta: number, numExamples: number): Trainer {
  const specs = [{ name: 'w', shape: [size] }];
  return {
    numExamples,
    numEvalExamples: 0,
    backend: 'stand-in',
    specs: () => specs,
    getParameters: async () => ({
      params: [{ name: 'w', shape: [size], values: new Float32Array(size) }],
      modelTopology: { class_name: 'Sequential', config: {} },
    }),
    fit: async (global: ModelParams) => {
      const values = global[0]!.values as Float32Array;
      for (let j = 0; j < values.length; j++) values[j] = values[j]! + pattern(j) + delta;
      return { params: [{ name: 'w', shape: [size], values }], numExamples, metrics: { loss: delta } };
    },
    evaluate: async () => ({ numExamples: 0, loss: 0, metrics: {} }),
  };
}

/** The real client connection (the one the Node and browser SDKs use) over a real socket. */
export function sessionClient(
  url: string,
  clientId: string,
  trainer: Trainer,
  options: Partial<SessionConnectionOptions> = {},
): SessionConnection {
  const socket = io(url, { auth: { token: CLIENT_TOKEN }, transports: ['websocket'], forceNew: true });
  return new SessionConnection(socket, { clientId, trainer, runtime: 'test', ...options });
}

/** The first few parameters of a checkpoint that differ from `expected` (none when the aggregate is exact). */
export async function wrongWeights(checkpoint: string, size: number, expected: (j: number) => number) {
  const bytes = await readFile(join(checkpoint, WEIGHTS_FILE_NAME));
  const weights = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  expect(weights.length).toBe(size);
  const wrong: { j: number; value: number }[] = [];
  for (let j = 0; j < size && wrong.length < 5; j++) {
    if (weights[j] !== expected(j)) wrong.push({ j, value: weights[j]! });
  }
  return wrong;
}
