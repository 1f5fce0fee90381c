import { defineProject } from 'vitest/config';

// Every example runs in CI (the root vitest config lists this project beside packages/*).
export default defineProject({
  test: {
    name: 'examples',
    include: ['*/test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
