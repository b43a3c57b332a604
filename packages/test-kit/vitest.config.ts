import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // one process per framework file: each has its own meterline runtime; --expose-gc for the memory checks
    pool: 'forks',
    execArgv: ['--expose-gc'],
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
