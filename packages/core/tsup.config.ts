import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// `@fedlearn/core/testing`: simulations for tests and benchmarks, kept out of the main export.
// `@fedlearn/core/node` and `/keystream-worker`: Node-only (native ChaCha20, worker threads).
export default defineConfig({
  ...libraryBuild,
  entry: ['src/index.ts', 'src/testing.ts', 'src/node.ts', 'src/keystream-worker.ts'],
});
