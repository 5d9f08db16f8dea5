/** Debian's Chromium for the end-to-end tests (Playwright cannot download browsers here). */
import fs from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium'

/** Launches headless Chromium; fails with an install hint when it is missing (CI installs it). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the end-to-end tests need Debian's chromium ("apt-get install -y chromium"), or AIRLOCK_CHROMIUM set to a Chromium binary`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  })
}
