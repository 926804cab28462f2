import { defineConfig } from 'vitest/config'

// `npm run test:browser`: the live page and packed models in a real headless Chromium.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/browser/*.browser-test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
