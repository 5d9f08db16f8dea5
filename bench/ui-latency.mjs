/* global window, document, MutationObserver */
// Bench part for the UI: time from a `tools/call` arriving at the gateway to the approval being
// visible — as a WebSocket event (what every UI receives) and, when Debian's chromium is
// installed, as a card drawn in the real web UI (a MutationObserver timestamps it in the page).
import fs from 'node:fs'
import WebSocket from 'ws'

const CHROMIUM = '/usr/bin/chromium'

/** Connects an authenticated control WebSocket to the web UI at `url` (with #token=…). */
export async function openWs(url) {
  const u = new URL(url)
  const token = new URLSearchParams(u.hash.slice(1)).get('token')
  const ws = new WebSocket(`ws://${u.host}/api`, { headers: { Origin: u.origin } })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.send(JSON.stringify({ type: 'auth', token }))
  await new Promise((resolve, reject) => {
    ws.once('message', (m) =>
      JSON.parse(String(m)).ok ? resolve() : reject(new Error('auth refused')),
    )
  })
  return ws
}

/**
 * Measures approval visibility `runs` times. `callTool()` starts a call that needs approval;
 * the measured call is then denied so the next run starts clean.
 */
export async function approvalLatency(url, callTool, runs = 20) {
  const ws = await openWs(url)
  const events = []
  let waiting
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m))
    if (msg.event === 'approval.requested') {
      events.push(performance.now())
      waiting?.(msg.data.id)
    }
  })
  const decide = (id) =>
    ws.send(
      JSON.stringify({
        id: Math.random(),
        method: 'approvals.decide',
        params: { id, answer: 'deny' },
      }),
    )
  const wsTimes = []
  for (let i = 0; i < runs; i++) {
    const got = new Promise((r) => (waiting = r))
    const t0 = performance.now()
    const call = callTool(i)
    const id = await got
    wsTimes.push(performance.now() - t0)
    decide(id)
    await call
  }

  let uiTimes
  if (fs.existsSync(CHROMIUM)) {
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    })
    try {
      const page = await browser.newPage()
      await page.goto(url)
      await page
        .getByRole('link', { name: /approvals/i })
        .first()
        .click()
        .catch(() => undefined)
      await page.waitForTimeout(500)
      uiTimes = []
      for (let i = 0; i < runs; i++) {
        // Page clock and ours differ: measure in the page from the moment we tell it a call starts.
        await page.evaluate(() => {
          window.__seen = new Promise((resolve) => {
            const start = performance.now()
            const obs = new MutationObserver(() => {
              if (document.querySelector('[data-testid="approval-card"]')) {
                obs.disconnect()
                resolve(performance.now() - start)
              }
            })
            obs.observe(document.body, { childList: true, subtree: true })
          })
        })
        const got = new Promise((r) => (waiting = r))
        const call = callTool(1000 + i)
        const id = await got
        uiTimes.push(await page.evaluate(() => window.__seen))
        decide(id)
        await call
        await page.waitForFunction(() => !document.querySelector('[data-testid="approval-card"]'))
      }
    } finally {
      await browser.close()
    }
  }
  ws.close()
  return { wsTimes, uiTimes }
}
