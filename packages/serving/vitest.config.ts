import { defineProject } from 'vitest/config';

export default defineProject({
  // graphql ships CJS (main) and ESM (module): Node loads the CJS for us and for mercurius, but vite
  // would pick the ESM for us, and two copies of graphql refuse each other's schema objects.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: { name: 'serving', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 30_000 },
});
