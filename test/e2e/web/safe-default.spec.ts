/**
 * Safe by default, in the browser (Debian's Chromium, Playwright Test): with no policy at all, an
 * agent's `logout` raises a card, a system notification, the count in the title and a favicon
 * badge; the card survives a reload (the request waits for its deadline, not for the tab); "Always"
 * asks to confirm; a call nobody answered in time is allowed late from Activity and its retry passes.
 */
import path from 'node:path'
import type { BrowserContext, Page } from '@playwright/test'
import { expect, goTo, test } from './fixtures'
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
async function start(settings: Record<string, unknown> = {}): Promise<void> {
  env.writeConfig(
    [
      {
        name: 'chat',
        command: process.execPath,
        args: [path.join(ROOT, 'test', 'fixtures', 'servers', 'chat-server.mjs')],
      },
    ],
    settings,
  )
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

    // The grant shows on its tool's row in Tools & policy, with its scope and a Revoke.
    await goTo(page, 'Tools & policy')
    const row = page.locator('[data-testid=tool-row][data-tool=delete_chat]')
    const grant = row.getByTestId('tool-grant')
    await expect(grant).toContainText(
      'always: any arguments, from every client, until you revoke it',
    )
    await expect(
      page.locator('[data-testid=tool-row][data-tool=logout]').getByTestId('tool-grant'),
    ).toHaveCount(0)
    await grant.getByRole('button', { name: 'Revoke the grant for delete_chat' }).click()
    await expect(grant).toHaveCount(0)
    // Revoked: the next call is asked about again.
    const asked = client.callTool({ name: 'delete_chat', arguments: { chat: 'c' } })
    const again = page.getByTestId('approval-card').first()
    await again.waitFor()
    await again.locator('[data-answer=deny]').click()
    expect((await asked).isError).toBe(true)
  })

  test('a call nobody answered in time is allowed late from Activity; the retry passes without asking, and the audit says so', async () => {
    await start({ approvalTimeoutSeconds: 1 })
    const { client } = await env.connect('chat', { name: 'browser-agent' })
    const args = { to: 'bob', amount: 5 }
    const call = client.callTool({ name: 'transfer', arguments: args })
    await page.getByTestId('approval-card').first().waitFor()
    // Nobody answers: the agent is told how the user can still allow it, and for how long.
    const denied = await call
    expect(denied.isError).toBe(true)
    expect(textOf(denied)).toContain('nobody answered within 1 s')
    expect(textOf(denied)).toContain(
      'within 10 minutes (Activity, this call\'s row, "Allow the retry")',
    )

    await goTo(page, 'Activity')
    const row = page.locator('[data-testid=call-row]', { hasText: 'transfer' }).first()
    await expect(row.getByTestId('call-decision')).toHaveText('timed out')
    await row.getByRole('button', { name: 'Allow the retry' }).click()
    await row.getByTestId('retry-allowed').waitFor()

    // The identical retry passes at once: no new card, no new request.
    const retry = await client.callTool({ name: 'transfer', arguments: args })
    expect(textOf(retry)).toBe('transfer: done')
    expect(await page.getByTestId('approval-card').count()).toBe(0)
    const calls = env.auditRecords().filter((r) => r.tool === 'transfer' && r.kind === 'call')
    expect(calls.map((r) => [r.decision, r.decidedBy])).toEqual([
      ['timeout', 'timeout'],
      ['approved', 'grant'],
    ])
    expect(calls[1]?.reason).toBe('grant: call (retry allowed late by web UI)')
    // Activity lists the retry, approved by the grant.
    const approved = page.locator('[data-testid=call-row]', { hasText: 'approved' }).first()
    await expect(approved).toContainText('transfer')
    await expect(approved).toContainText('grant')

    // Servers says what the CLI says: routed through Airlock is not protected.
    await goTo(page, 'Servers')
    const card = page.locator('[data-testid=server-card][data-server=chat]')
    await expect(card.getByTestId('protection')).toHaveAttribute('data-level', 'floor')
    await expect(card.getByTestId('protection-summary')).toContainText(
      'Routed through Airlock, with no policy of its own: every call is allowed by default, except that the risk floor holds',
    )
    await expect(card.getByTestId('protection-summary')).toContainText('it is a proposal')

    // The grant was single use: the same call again is asked about again.
    const again = client.callTool({ name: 'transfer', arguments: args })
    await page.getByTestId('approval-card').first().waitFor()
    expect((await again).isError).toBe(true)
  })
})
