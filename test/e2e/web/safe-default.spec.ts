/**
 * Safe by default, in the browser (Debian's Chromium, playwright-core): with no policy at all, an
 * agent's `logout` raises a card, a system notification, the count in the title and a favicon
 * badge; the card survives a reload (the request waits for its deadline, not for the tab).
 */
import path from 'node:path'
import type { BrowserContext, Page } from '@playwright/test'
import { expect, test } from './fixtures'
import type { Env } from '../../helpers/harness'
import { ROOT, textOf } from '../../helpers/harness'

let env: Env
let context: BrowserContext
let page: Page

test.beforeEach(({ context: c, page: p, env: e }) => {
  context = c
  page = p
  env = e
})

/** A tiny chat server with `logout`, and no policy: only the risk floor stands between. */
async function start(): Promise<void> {
  env.writeConfig([
    {
      name: 'chat',
      command: process.execPath,
      args: [path.join(ROOT, 'test', 'fixtures', 'servers', 'chat-server.mjs')],
    },
  ])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  const origin = new URL(env.uiUrl).origin
  await context.grantPermissions(['notifications'], { origin })
  // Record the notifications the page raises (headless Chromium shows none on screen).
  await context.addInitScript(`
    window.__notes = []
    const Real = window.Notification
    class Recorded extends Real {
      constructor(title, opts) {
        super(title, opts)
        window.__notes.push({ title, body: opts && opts.body })
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recorded })
  `)
  await open()
}

async function open(): Promise<void> {
  await page.goto(env.uiUrl as string)
  await page.getByTestId('pending-count').waitFor()
  await page.locator('[data-connection=open]').waitFor()
}

const notes = (): Promise<{ title: string; body?: string }[]> => page.evaluate('window.__notes')

test.describe('safe by default, in the browser', () => {
  test('logout with no policy raises a card, a notification, the title count; a reload keeps the card', async () => {
    await start()
    const { client } = await env.connect('chat', { name: 'browser-agent' })
    const call = client.callTool({ name: 'logout', arguments: {} })
    const card = page.getByTestId('approval-card').first()
    await card.waitFor()
    expect(await card.textContent()).toContain('risk floor: critical (auth — "logout")')
    await page.waitForFunction('document.title.startsWith("(1) ")')
    await page.waitForFunction('window.__notes.length > 0')
    const [note] = await notes()
    expect(note?.title).toBe('Airlock: allow "logout"?')
    expect(note?.body).toContain('browser-agent wants to run "logout" on "chat"')
    const icon = await page.locator('link[rel="icon"]').getAttribute('href')
    expect(icon).toMatch(/^data:image\/png;base64,/)

    // A reload: the request is still pending, and the card comes back.
    await page.reload()
    await page.locator('[data-connection=open]').waitFor()
    await page.getByTestId('approval-card').first().waitFor()
    await page
      .getByTestId('approval-card')
      .first()
      .getByRole('button', { name: 'Allow once' })
      .click()
    expect(textOf(await call)).toBe('logout: done')
    await page.waitForFunction('!document.title.startsWith("(")')
  })

  test('Always asks to confirm, stating its scope; confirmed, the next call passes without asking', async () => {
    await start()
    const { client } = await env.connect('chat', { name: 'browser-agent' })
    const call = client.callTool({ name: 'delete_chat', arguments: { chat: 'a' } })
    const card = page.getByTestId('approval-card').first()
    await card.waitFor()
    await card.getByRole('button', { name: 'Always', exact: true }).click()
    const confirm = card.getByTestId('confirm-always')
    expect(await confirm.textContent()).toContain(
      'any arguments, from every client, until you revoke it',
    )
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    await confirm.waitFor({ state: 'detached' })
    await card.getByRole('button', { name: 'Always', exact: true }).click()
    await card.getByRole('button', { name: 'Yes, always allow' }).click()
    expect(textOf(await call)).toBe('delete_chat: done')
    // The grant answers the next call (other arguments too) at once.
    const next = await client.callTool({ name: 'delete_chat', arguments: { chat: 'b' } })
    expect(textOf(next)).toBe('delete_chat: done')
    const rec = env.auditRecords().filter((r) => r.tool === 'delete_chat' && r.kind === 'call')
    expect(rec.map((r) => r.decidedBy)).toEqual(['user', 'grant'])
  })
})
