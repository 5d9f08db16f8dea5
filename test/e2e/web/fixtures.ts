/**
 * Playwright Test fixtures for the browser tests (the `web` project): a fresh data directory per
 * test (`env`, every process it started ended afterwards) and a page that fails its test when it
 * throws (`pageErrors`, checked after each test). The page itself is Playwright's own fixture, so
 * a failure keeps its trace and screenshot (playwright.config.ts).
 */
import { test as base, expect, type Page } from '@playwright/test'
import { Env } from '../../helpers/harness'

export { expect }

interface Fixtures {
  /** A fresh AIRLOCK_HOME; its gateway, shims and servers end after the test. */
  env: Env
  /** Uncaught errors of the page; the test fails when there are any. */
  pageErrors: string[]
}

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a fixture needs from this pattern
  env: async ({}, use) => {
    const env = new Env()
    try {
      await use(env)
    } finally {
      await env.cleanup()
    }
  },
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      // Fail with the locator's own message well before the test's timeout.
      page.setDefaultTimeout(10_000)
      await use(errors)
      expect(errors, 'errors thrown in the page').toEqual([])
    },
    { auto: true },
  ],
})

/** A screen of the UI's navigation. */
export type Screen =
  'Activity' | 'Approvals' | 'Servers' | 'Clients' | 'Tools & policy' | 'Settings'

/** Opens a screen from the navigation bar, as a person clicks it. */
export async function goTo(page: Page, screen: Screen): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: screen, exact: true })
    .click()
}
