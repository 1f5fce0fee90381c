import { startFirstBackend } from '@fedlearn/core';
import * as tf from '@tensorflow/tfjs-core';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Picks the tfjs backend: `tensorflow` when `@tensorflow/tfjs-node` is installed (an optional
 * peer dependency, native and fastest), else `wasm`, else `cpu`. Returns the backend in use.
 */
export function selectBackend(preference: BackendPreference = 'auto'): Promise<string> {
  const order = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  return startFirstBackend(tf, order, register);
}

async function register(name: string): Promise<void> {
  if (name === 'tensorflow') {
    // A variable keeps bundlers from resolving a package that is usually absent.
    const moduleName = '@tensorflow/tfjs-node';
    await import(moduleName);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
}
