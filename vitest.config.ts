import fs from 'node:fs'
import { defineConfig } from 'vitest/config'

// The browser tests need Debian's chromium (Playwright cannot download browsers here). CI
// installs it (.ci/run) and must run them; elsewhere they are left out with the reason printed.
const chromium = process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium'
const skipBrowser = !fs.existsSync(chromium) && !process.env.CI
if (skipBrowser) {
  process.stderr.write(
    `\n⚠ test/e2e skipped: no Chromium at ${chromium}. Install it with "apt-get install -y chromium" (Debian) or set AIRLOCK_CHROMIUM; CI always runs them.\n\n`,
  )
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(skipBrowser ? ['test/e2e/**'] : [])],
    // Builds out/ (the CLI, gateway and shim bundles the integration tests run) once per run.
    globalSetup: ['test/integration/setup.ts'],
    // Deadlines for a loaded 2-core CI machine; a passing test takes far less.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn real processes; two cores on CI.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
