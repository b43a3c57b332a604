import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one real stack, started once; every wait inside is bounded on its own
    testTimeout: 90_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
