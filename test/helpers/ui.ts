/**
 * Screenshots for docs/ from the browser tests, when AIRLOCK_SCREENSHOTS=1 (off by default, so
 * that CI never writes into the tree): `AIRLOCK_SCREENSHOTS=1 npx playwright test --project web`.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { ROOT } from './harness'

/** Where screenshots go, or undefined when they are off. */
export const SHOTS =
  process.env.AIRLOCK_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : undefined

/** Saves a screenshot of `page` as docs/screenshots/<name>.png when AIRLOCK_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return
  fs.mkdirSync(SHOTS, { recursive: true })
  const size = page.viewportSize() ?? { width: 1280, height: 800 }
  // No hover state in the picture; let charts and fonts settle.
  await page.mouse.move(size.width - 1, size.height - 1)
  await page.waitForTimeout(300)
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) })
}
