import * as tf from '@tensorflow/tfjs-core';

export type ServingBackend = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

async function registerBackend(name: Exclude<ServingBackend, 'auto'>): Promise<void> {
  if (tf.findBackendFactory(name)) return;
  if (name === 'tensorflow') {
    // A variable keeps bundlers from resolving an optional peer that is usually absent.
    const nativeModule = '@tensorflow/tfjs-node';
    await import(nativeModule);
  } else if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else await import('@tensorflow/tfjs-backend-cpu');
}

/**
 * Starts the tfjs backend serving runs on: native tfjs-node when installed, else wasm, else cpu.
 * Returns the name of the backend in use.
 */
export async function startServingBackend(preference: ServingBackend = 'auto'): Promise<string> {
  const candidates: Exclude<ServingBackend, 'auto'>[] =
    preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    try {
      await registerBackend(candidate);
      if (await tf.setBackend(candidate)) {
        await tf.ready();
        return tf.getBackend();
      }
      reasons.push(`${candidate}: refused`);
    } catch (error) {
      reasons.push(`${candidate}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`serving found no tfjs backend (${reasons.join('; ')})`);
}
