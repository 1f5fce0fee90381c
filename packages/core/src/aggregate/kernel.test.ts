import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNEL_WASM } from './kernel.generated.js';

describe('kernel.generated.ts', () => {
  it('is exactly what build-kernel.mjs compiles from kernel.wat', () => {
    const script = fileURLToPath(new URL('../../scripts/build-kernel.mjs', import.meta.url));
    // Throws, with the script's message, when the committed bytes and the .wat have drifted apart.
    execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
  });

  it('is valid wasm small enough for synchronous compilation in browsers (< 4 KB)', () => {
    expect(KERNEL_WASM.length).toBeLessThan(4096);
    expect(WebAssembly.validate(KERNEL_WASM)).toBe(true);
  });
});
