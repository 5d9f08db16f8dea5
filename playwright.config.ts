/**
 * Playwright Test: the browser tests (`web`: the UI `airlock serve` serves, in Chromium) and the
 * desktop app (`electron`: `_electron.launch`). `npm test` runs them after vitest.
 *
 * Playwright cannot download browsers everywhere: the `web` project uses Debian's chromium
 * (`apt-get install -y chromium`) or AIRLOCK_CHROMIUM. Without one the web tests are left out
 * with the reason printed, except under CI, which must run them. The Electron tests skip with the
 * reason printed where the Electron runtime is missing.
 */
import fs from 'node:fs'
import { defineConfig } from '@playwright/test'

const chromium = process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium'
const noChromium = !fs.existsSync(chromium) && !process.env.CI
if (noChromium) {
  process.stderr.write(
    `\n⚠ test/e2e/web skipped: no Chromium at ${chromium}. Install it with "apt-get install -y chromium" (Debian) or set AIRLOCK_CHROMIUM; CI always runs them.\n\n`,
  )
}

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './test/e2e/global-setup.ts',
  outputDir: 'test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  // Each test starts a gateway, servers and a browser page; two cores on CI.
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'web',
      testDir: 'test/e2e/web',
      testIgnore: noChromium ? '**' : undefined,
      use: {
        browserName: 'chromium',
        viewport: { width: 1400, height: 900 },
        colorScheme: 'light',
        launchOptions: {
          executablePath: chromium,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
          ],
        },
      },
    },
    {
      name: 'electron',
      testDir: 'test/e2e/electron',
    },
  ],
})
