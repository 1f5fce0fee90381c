import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// `@fedlearn/core/testing`: simulations for tests and benchmarks, kept out of the main export.
export default defineConfig({ ...libraryBuild, entry: ['src/index.ts', 'src/testing.ts'] });
