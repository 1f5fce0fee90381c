import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'client-node', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
