import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds out/ (the CLI, gateway and shim bundles the integration tests run) once per run.
    globalSetup: ['test/integration/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn real processes; two cores on CI.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
