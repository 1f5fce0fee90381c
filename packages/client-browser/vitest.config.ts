import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'client-browser', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
