import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SessionConnection,
  type SessionConnectionOptions,
  type Trainer,
  WEIGHTS_FILE_NAME,
} from '@fedlearn/core';
import { io } from 'socket.io-client';
import { expect } from 'vitest';
import { CLIENT_TOKEN } from './harness.js';

export { standInPattern as pattern, standInTrainer } from '@fedlearn/core/testing';

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
