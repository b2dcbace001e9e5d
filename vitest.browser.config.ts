import { defineConfig } from 'vitest/config';

// The browser tests (test/browser): real headless Chromium against the built demo page.
// `npm run test:browser` builds first.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One Chromium at a time: the machine has 2 cores and the sweeps use both.
    fileParallelism: false,
  },
});
