import { startFirstBackend } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';

export type ServingBackend = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Starts the tfjs backend serving runs on: native tfjs-node when installed, else wasm, else cpu
 * (core's `startFirstBackend`, as the Node client uses). Returns the name of the backend in use.
 */
export function startServingBackend(preference: ServingBackend = 'auto'): Promise<string> {
  const order = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  return startFirstBackend(tf, order, registerBackend);
}

async function registerBackend(name: string): Promise<void> {
  if (name === 'tensorflow') {
    // A variable keeps bundlers from resolving an optional peer that is usually absent.
    const nativeModule = '@tensorflow/tfjs-node';
    await import(nativeModule);
  } else if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else await import('@tensorflow/tfjs-backend-cpu');
}
