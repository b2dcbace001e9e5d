import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Chromium's tests have their own config (vitest.browser.config.ts, npm run test:browser).
    exclude: ['test/browser/**', '**/node_modules/**'],
    testTimeout: 120_000,
    // tfjs keeps one global engine per process; files run in separate forks.
    pool: 'forks',
  },
});
