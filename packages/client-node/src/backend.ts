import * as tf from '@tensorflow/tfjs-core';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Picks the tfjs backend: `tensorflow` when `@tensorflow/tfjs-node` is installed (an optional
 * peer dependency, native and fastest), else `wasm`, else `cpu`. Returns the backend in use.
 */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<string> {
  const order: Exclude<BackendPreference, 'auto'>[] =
    preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  const failures: string[] = [];
  for (const name of order) {
    try {
      await register(name);
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
      failures.push(`${name}: setBackend returned false`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no tfjs backend could start (${failures.join('; ')})`);
}

async function register(name: Exclude<BackendPreference, 'auto'>): Promise<void> {
  if (tf.findBackendFactory(name)) return;
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
