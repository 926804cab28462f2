import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string): string => fileURLToPath(new URL(`./src/${p}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Docs examples import the package by name; in the repository that is the source tree.
    alias: [
      { find: /^sbnkit$/, replacement: src('index.ts') },
      { find: /^sbnkit\/(dsl|interpreters|estimators|data|train|node|export)$/, replacement: src('$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Property tests enumerate small networks exactly; give them room on a 2-core CI box.
    testTimeout: 60_000,
    pool: 'forks',
  },
})
