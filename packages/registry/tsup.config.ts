import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // zod is resolved from the workspace root (a dependency of @fedlearn/core); fastify is a
  // devDependency needed only by the MLflow stand-in in `@fedlearn/registry/testing`.
  external: ['zod', 'fastify'],
});
