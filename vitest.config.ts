import { defineConfig } from 'vitest/config'
import tsconfigPaths from 'vite-tsconfig-paths'

// Unit and integration tests (next to the code as *.test.ts, plus test/). Integration tests
// get a fresh PostgreSQL database per test file from test/db.ts; globalSetup provides the server.
export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['node_modules/**', 'build/**', 'test/e2e/**', '.leash/**'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-console.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
