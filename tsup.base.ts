import type { Options } from 'tsup';

/** The build every library package shares: ESM + CJS + .d.ts with source maps. */
export const libraryBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
};
