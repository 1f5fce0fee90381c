import { type BackendRegistry, startFirstBackend } from '@fedlearn/core';

/** For real users: the GPU first, then WebAssembly, then plain JavaScript. */
export const BROWSER_BACKEND_ORDER = ['webgl', 'wasm', 'cpu'] as const;

/**
 * Starts the first tfjs backend of `order` that the page has registered (by importing
 * `@tensorflow/tfjs-backend-webgl`, `-wasm` or `-cpu`) and that initialises. Returns its name.
 */
export function selectBrowserBackend(
  tf: BackendRegistry,
  order: readonly string[] = BROWSER_BACKEND_ORDER,
): Promise<string> {
  return startFirstBackend(tf, order);
}
