/**
 * End to end: the web UI that `airlock serve` serves, in Debian's Chromium (playwright-core),
 * against the real gateway, real MCP servers from npm, and the SDK Client as the agent through
 * the real `airlock connect` shim. With AIRLOCK_SCREENSHOTS=1 it also writes a screenshot of each
 * screen to docs/screenshots/ (off by default, so that CI never writes into the tree).
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { expect, goTo, test, type Screen } from './fixtures'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Env } from '../../helpers/harness'
import { ROOT, everything, memory, textOf, waitFor } from '../../helpers/harness'

const SHOTS =
  process.env.AIRLOCK_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : undefined
const XSS = '<img src=x onerror=alert(1)>'

let env: Env
let page: Page
let dialogs: string[]

test.beforeAll(() => {
  if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true })
})

test.beforeEach(({ page: p, env: e }) => {
  page = p
  env = e
  dialogs = []
})

/** Writes a policy for `everything`, starts `airlock serve --port 0`, and opens its URL. */
async function start(
  policy: Record<string, unknown>,
  opts: { colorScheme?: 'light' | 'dark' } = {},
): Promise<void> {
  const file = env.writePolicy('everything', { version: '1', ...policy })
  env.writeConfig([everything('everything', { policy: file })])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  if (opts.colorScheme) await page.emulateMedia({ colorScheme: opts.colorScheme })
  page.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  await page.goto(env.uiUrl)
  await page.getByTestId('pending-count').waitFor()
  // Connected and authenticated: only then does the gateway count this page as an approver.
  await page.locator('[data-connection=open]').waitFor()
}

/** The agent: the SDK Client through `airlock connect everything`. */
async function agent(): Promise<Client> {
  return (await env.connect('everything', { name: 'e2e-agent' })).client
}

const echo = (client: Client, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } })

async function go(screen: Screen): Promise<void> {
  await goTo(page, screen)
}

/** Saves a screenshot as docs/screenshots/<name>.png when AIRLOCK_SCREENSHOTS=1. */
async function shot(name: string): Promise<void> {
  if (!SHOTS) return
  // No hover state in the picture; let countdowns, charts and fonts settle.
  await page.mouse.move(1399, 899)
  await page.waitForTimeout(300)
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) })
}

async function rowCount(): Promise<number> {
  return page.getByTestId('call-row').count()
}

async function texts(locator: Locator): Promise<string[]> {
  return (await locator.allTextContents()).map((t) => t.trim())
}

test.describe('approvals in the browser', () => {
  const ask = {
    default: 'allow',
    tools: { echo: { rules: [{ name: 'ask before echo', action: 'require_approval' }] } },
  }

  test('a require_approval call appears within 1 s; Allow once → the agent gets the server’s result', async () => {
    await start(ask)
    await go('Approvals')
    const client = await agent()
    const card = page.getByTestId('approval-card')
    const sent = Date.now()
    const call = echo(client, 'hello from the agent')
    await card.waitFor({ timeout: 10_000 })
    const visibleAfter = Date.now() - sent
    expect(visibleAfter).toBeLessThan(1000)
    const text = await card.textContent()
    expect(text).toContain('e2e-agent wants to run echo on everything')
    expect(text).toContain('ask before echo')
    expect(await card.getByTestId('approval-args').textContent()).toContain('hello from the agent')
    expect(await page.getByTestId('pending-count').getAttribute('data-count')).toBe('1')
    expect(await card.getByTestId('approval-countdown').textContent()).toMatch(
      /Denied automatically in \d+ s/,
    )

    await card.getByRole('button', { name: 'Allow once' }).click()
    const result = await call
    expect(result.isError).toBeFalsy()
    expect(textOf(result)).toBe('Echo: hello from the agent')
    await card.waitFor({ state: 'detached' })
    expect(await page.getByTestId('pending-count').getAttribute('data-count')).toBe('0')
    // The decision is listed under recent decisions.
    await page.getByTestId('recent-decisions').getByText('approved').waitFor()
  })

  test('Deny → the agent gets an error and the server never runs the call', async () => {
    await start(ask)
    const client = await agent()
    const call = echo(client, 'please?')
    // On Activity the card shows in the pending dock.
    const card = page.getByTestId('pending-dock').getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    // Keyboard: the answers are real buttons.
    await card.locator('[data-answer=deny]').focus()
    await page.keyboard.press('Enter')
    const result = await call
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain('the user denied "echo"')
    await card.waitFor({ state: 'detached' })
    const row = page.getByTestId('call-row').first()
    await row.getByText('denied by user').waitFor()
    expect(env.auditRecords().filter((r) => r.kind === 'outcome')).toHaveLength(0)
  })

  test('keyboard: Deny has the focus; A allows once, Esc denies; the floating dock never moves the page', async () => {
    await start(ask)
    const client = await agent()
    const main = page.locator('main')
    const before = await main.boundingBox()
    const first = echo(client, 'first')
    const card = page.getByTestId('pending-dock').getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    expect(await main.boundingBox()).toEqual(before)
    // Deny has the focus, and each answer shows its key.
    expect(await page.locator(':focus').getAttribute('data-answer')).toBe('deny')
    expect(await card.getByRole('button', { name: /Allow once/ }).textContent()).toContain('A')
    expect(await card.getByTestId('approval-args').textContent()).toContain('message')
    await page.keyboard.press('a')
    expect(textOf(await first)).toBe('Echo: first')
    await card.waitFor({ state: 'detached' })

    const second = echo(client, 'second')
    await card.waitFor({ timeout: 10_000 })
    expect(await main.boundingBox()).toEqual(before)
    await page.keyboard.press('Escape')
    const denied = await second
    expect(denied.isError).toBe(true)
    expect(textOf(denied)).toContain('the user denied "echo"')
  })

  test('no answer → denied at the deadline, and the card goes away', async () => {
    await start({ ...ask, approval_timeout: 2 })
    await go('Approvals')
    const client = await agent()
    const call = echo(client, 'anyone there?')
    const card = page.getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    expect(await card.getByTestId('approval-countdown').textContent()).toMatch(
      /Denied automatically in [12] s/,
    )
    const result = await call
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain('nobody answered within 2 s')
    await card.waitFor({ state: 'detached' })
    await page.getByTestId('recent-decisions').getByText('timed out').waitFor()
  })

  test('Allow for session lets the next call through without asking', async () => {
    await start(ask)
    await go('Approvals')
    const client = await agent()
    const first = echo(client, 'one')
    const card = page.getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    await card.getByRole('button', { name: 'Allow for session' }).click()
    expect(textOf(await first)).toBe('Echo: one')
    await card.waitFor({ state: 'detached' })

    // Count every approval card that shows up from now on.
    await page.evaluate(`(() => {
      window.__cards = 0
      new MutationObserver(() => { if (document.querySelector('[data-testid=approval-card]')) window.__cards++ })
        .observe(document.body, { subtree: true, childList: true })
    })()`)
    const second = await echo(client, 'two')
    expect(textOf(second)).toBe('Echo: two')
    expect(await page.evaluate('window.__cards')).toBe(0)
    const grant = page.getByTestId('grant')
    await grant.waitFor()
    expect(await grant.textContent()).toContain('this session')
    const call = env.auditRecords().filter((r) => r.kind === 'call')
    expect(call.map((r) => r.decidedBy)).toEqual(['user', 'grant'])

    // Another agent session has no grant: it is asked.
    const other = await agent()
    const asked = echo(other, 'from another session')
    await card.waitFor({ timeout: 10_000 })
    await page.getByTestId('recent-decisions').getByText('approved').first().waitFor()
    await shot('approvals')
    if (SHOTS) {
      await page.emulateMedia({ colorScheme: 'dark' })
      await shot('approvals-dark')
      await page.emulateMedia({ colorScheme: 'light' })
    }
    await card.getByRole('button', { name: 'Allow once' }).click()
    expect(textOf(await asked)).toBe('Echo: from another session')
    await card.waitFor({ state: 'detached' })

    // Revoke: the next call asks again.
    await grant.getByRole('button', { name: /Revoke/ }).click()
    await grant.waitFor({ state: 'detached' })
    const third = echo(client, 'three')
    await card.waitFor({ timeout: 10_000 })
    await card.getByRole('button', { name: 'Allow once' }).click()
    expect(textOf(await third)).toBe('Echo: three')
  })
})

test.describe('activity', () => {
  test('shows the calls live, with details, and its filters work', async () => {
    await start({
      default: 'allow',
      tools: {
        'get-env': { rules: [{ name: 'no env', action: 'deny', on_deny: 'no env today' }] },
      },
    })
    const client = await agent()
    for (const word of ['alpha', 'beta', 'gamma'])
      expect(textOf(await echo(client, word))).toBe(`Echo: ${word}`)
    for (let i = 0; i < 2; i++) {
      const r = await client.callTool({ name: 'get-env', arguments: {} })
      expect(r.isError).toBe(true)
      expect(textOf(r)).toContain('no env today')
    }
    // Forwarded, and the server refuses it: the outcome carries the server's error text.
    await client
      .callTool({ name: 'get-sum', arguments: { a: 'not a number', b: 1 } })
      .catch(() => undefined)
    await waitFor(async () => (await rowCount()) === 6, 5000, 'six rows')
    expect(await texts(page.getByTestId('call-decision'))).toEqual([
      'allowed',
      'denied',
      'denied',
      'allowed',
      'allowed',
      'allowed',
    ])

    // Live: a new call appears on top without reloading; its outcome fills in the same row.
    expect(textOf(await echo(client, 'delta'))).toBe('Echo: delta')
    await waitFor(async () => (await rowCount()) === 7, 5000, 'the live row')
    const top = page.getByTestId('call-row').first()
    expect(await top.textContent()).toContain('echo')
    await top.getByText('ok', { exact: true }).waitFor()

    // Details: the arguments, the outcome, and for a failed call the server's error excerpt.
    const rows = page.getByTestId('call-row') // delta, get-sum, get-env ×2, gamma, beta, alpha
    await rows.nth(1).click()
    const details = page.getByTestId('call-details')
    expect(await details.getByTestId('call-args').textContent()).toContain('not a number')
    expect(await details.getByTestId('call-result').textContent()).not.toMatch(
      /^\((no excerpt recorded|no result)\)$/,
    )
    await rows.nth(5).click()
    expect(await details.getByTestId('call-args').textContent()).toContain('"message": "beta"')
    await details.getByText('ok', { exact: true }).waitFor()
    await page.getByTestId('call-chart').getByText('everything').waitFor()
    await shot('activity')

    // Keyboard: the table is one tab stop; arrows and Home/End move the selection.
    await page.getByRole('grid', { name: 'Calls' }).focus()
    await page.keyboard.press('Home')
    expect(await details.getByTestId('call-args').textContent()).toContain('delta')
    await page.keyboard.press('ArrowDown')
    expect(await details.getByTestId('call-args').textContent()).toContain('not a number')
    await page.keyboard.press('Escape')
    await details.waitFor({ state: 'detached' })

    // Export: the file comes from audit.export as a download.
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ])
    expect(csv.suggestedFilename()).toMatch(/\.csv$/)
    const csvText = fs.readFileSync(await csv.path(), 'utf8')
    expect(csvText).toContain('get-env')
    expect(csvText.trim().split('\n').length).toBeGreaterThanOrEqual(8)
    const [jsonl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSONL' }).click(),
    ])
    expect(jsonl.suggestedFilename()).toMatch(/\.jsonl$/)
    const lines = fs
      .readFileSync(await jsonl.path(), 'utf8')
      .trim()
      .split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { tool: string }).tool)).toContain('echo')

    // Filters → audit.query.
    await page.getByRole('button', { name: 'More filters' }).click()
    await page.getByLabel('Tool', { exact: true }).fill('echo')
    await waitFor(async () => (await rowCount()) === 4, 5000, 'tool filter')
    expect(new Set(await texts(page.getByTestId('call-tool')))).toEqual(new Set(['echo']))
    await page.getByRole('button', { name: 'Clear' }).click()
    const picker = page.getByTestId('decision-picker')
    await picker.locator('summary').click()
    await picker.getByRole('checkbox', { name: 'denied', exact: true }).check()
    await picker.locator('summary').click()
    await waitFor(async () => (await rowCount()) === 2, 5000, 'decision filter')
    expect(await texts(page.getByTestId('call-decision'))).toEqual(['denied', 'denied'])
    await page.getByRole('button', { name: 'Clear' }).click()
    await page.getByLabel('Search', { exact: true }).fill('gamma')
    await waitFor(async () => (await rowCount()) === 1, 5000, 'text filter')
    await page.getByLabel('Search', { exact: true }).fill('no such text anywhere')
    await page.getByTestId('activity-empty').waitFor()
    await page.getByRole('button', { name: 'Clear' }).click()
    await page.getByLabel('Server', { exact: true }).selectOption('everything')
    await page.getByLabel('From', { exact: true }).fill('2000-01-01T00:00:00')
    await page.getByLabel('To', { exact: true }).fill('2000-01-02T00:00:00')
    await page.getByTestId('activity-empty').waitFor()
    await page.getByRole('button', { name: 'Clear' }).click()
    await waitFor(async () => (await rowCount()) === 7, 5000, 'all rows again')
  })

  test('agent-written arguments render as text, never as markup', async () => {
    await start({
      default: 'allow',
      tools: { echo: { rules: [{ name: 'ask', action: 'require_approval' }] } },
    })
    const client = await agent()
    const call = echo(client, XSS)
    const card = page.getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    expect(await card.getByTestId('approval-args').textContent()).toContain(XSS)
    expect(await page.locator('img').count()).toBe(0)
    await card.getByRole('button', { name: 'Allow once' }).click()
    expect(textOf(await call)).toBe(`Echo: ${XSS}`)

    await page.getByTestId('call-row').first().getByText('ok', { exact: true }).waitFor()
    await page.getByTestId('call-row').first().click()
    const details = page.getByTestId('call-details')
    expect(await details.getByTestId('call-args').textContent()).toContain(XSS)
    await page.getByLabel('Search', { exact: true }).fill('onerror')
    await waitFor(async () => (await rowCount()) === 1, 5000, 'search for the payload')
    expect(await page.locator('img').count()).toBe(0)
    // A frame and a task later: an alert() from the payload would have blocked the page (and
    // been seen) before this resolves.
    await page.evaluate(() => {
      const w = globalThis as unknown as { requestAnimationFrame(cb: () => void): number }
      return new Promise<void>((r) => w.requestAnimationFrame(() => setTimeout(() => r(), 0)))
    })
    expect(dialogs).toEqual([])
  })
})

test.describe('tools & policy', () => {
  test('an edit in the UI changes the next call’s decision', async () => {
    await start({ default: 'allow' })
    const client = await agent()
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo')
    expect(textOf(await echo(client, 'before'))).toBe('Echo: before')

    await go('Tools & policy')
    const row = page.locator('[data-testid=tool-row][data-tool=echo]')
    await row.waitFor()
    await row.getByLabel('Action for echo', { exact: true }).selectOption('deny')
    await row.getByLabel('Reason for echo', { exact: true }).fill('echo is switched off')
    await row.getByLabel('Reason for echo', { exact: true }).press('Enter')
    const yaml = page.getByLabel('Policy YAML', { exact: true })
    // A cell edit is checked by the gateway's policy check before it reaches the YAML.
    await expect
      .poll(() => yaml.inputValue(), { timeout: 10_000 })
      .toContain('echo is switched off')
    await page.getByTestId('policy-errors').getByText('Valid policy').waitFor()
    await page.getByRole('button', { name: 'Save policy' }).click()
    await page.getByTestId('policy-status').getByText('Saved').waitFor()
    await row.getByTestId('tool-effective').getByText('denied').waitFor()
    await shot('policy')

    const after = await echo(client, 'after')
    expect(after.isError).toBe(true)
    expect(textOf(after)).toContain('echo is switched off')

    // Import a policy file (Intercept's YAML form), save it: the next call asks a person.
    await page.getByLabel('Import…').setInputFiles({
      name: 'careful.yaml',
      mimeType: 'application/yaml',
      buffer: Buffer.from(
        'version: "1"\ndefault: allow\ntools:\n  echo:\n    rules:\n      - name: imported\n        action: require_approval\n',
      ),
    })
    await page.getByTestId('policy-status').getByText('Imported careful.yaml').waitFor()
    expect(await yaml.inputValue()).toContain('name: imported')
    await page.getByRole('button', { name: 'Save policy' }).click()
    await page.getByTestId('policy-status').getByText('Saved').waitFor()
    const asked = echo(client, 'imported?')
    const card = page.getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    expect(await card.textContent()).toContain('imported')
    await card.getByRole('button', { name: 'Allow once' }).click()
    expect(textOf(await asked)).toBe('Echo: imported?')

    // A bad cell keeps the app and says what is wrong, in the YAML editor's words.
    const rate = row.getByLabel('Rate limit for echo', { exact: true })
    for (const bad of ['10/min', 'abc']) {
      await rate.fill(bad)
      await rate.press('Enter')
      await row
        .getByRole('alert')
        .getByText(`rate_limit: expected "N/minute|hour|day" or {max, window} (got "${bad}")`, {
          exact: false,
        })
        .waitFor()
    }
    await page.getByRole('navigation', { name: 'Screens' }).waitFor()
    expect(await yaml.inputValue()).not.toContain('abc')
    await rate.fill('')
    await rate.press('Enter')
    await row.getByRole('alert').waitFor({ state: 'detached' })

    // Inline validation: a wrong action is shown with its line and column.
    await yaml.fill('version: "1"\ndefault: sometimes\n')
    const errors = page.getByTestId('policy-errors')
    await errors.getByText(/Line 2/).waitFor()
    expect(await errors.textContent()).toContain('default')
  })
})

test.describe('servers and settings', () => {
  test('adds, disables and discovers servers; saves settings', async () => {
    await start({ default: 'allow' })
    await go('Servers')
    const card = page.locator('[data-testid=server-card][data-server=everything]')
    await card.waitFor()
    await card.getByRole('button', { name: 'Discover tools' }).click()
    await card.getByTestId('discovered-tools').getByText('echo').waitFor({ timeout: 15_000 })

    await page.getByRole('button', { name: 'Add server' }).click()
    const form = page.getByTestId('server-form')
    await form.getByLabel('Name', { exact: true }).fill('memory')
    await form.getByLabel('Command', { exact: true }).fill(process.execPath)
    const mem = memory(path.join(env.home, 'memory.jsonl'))
    await form
      .getByLabel('Arguments (one per line)', { exact: true })
      .fill((mem.args ?? []).join('\n'))
    await form.getByRole('button', { name: 'Add variable' }).click()
    await form.getByLabel('Variable 1 name', { exact: true }).fill('MEMORY_FILE_PATH')
    await form
      .getByLabel('Variable 1 value', { exact: true })
      .fill(path.join(env.home, 'memory.jsonl'))
    await form.getByRole('button', { name: 'Add server', exact: true }).click()
    const added = page.locator('[data-testid=server-card][data-server=memory]')
    await added.waitFor()
    await added.getByRole('button', { name: 'Disable' }).click()
    await expect(added.getByTestId('server-status')).toHaveAttribute('data-status', 'disabled')
    const config = JSON.parse(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')) as {
      servers: { name: string; enabled: boolean; env: Record<string, string> }[]
    }
    expect(config.servers.find((s) => s.name === 'memory')).toMatchObject({
      enabled: false,
      env: { MEMORY_FILE_PATH: path.join(env.home, 'memory.jsonl') },
    })
    await added.getByRole('button', { name: 'Enable' }).click()
    await expect(added.getByTestId('server-status')).not.toHaveAttribute('data-status', 'disabled')

    await go('Settings')
    const timeout = page.getByLabel('Approval timeout (seconds)', { exact: true })
    await timeout.fill('30')
    await page.getByLabel('Redact argument keys', { exact: true }).fill('password, apiKey')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Saved.').waitFor()
    // Start at login belongs to the desktop app: disabled here, with a note.
    expect(await page.getByLabel('Start at login', { exact: true }).isDisabled()).toBe(true)
    await shot('settings')
    await page.reload()
    await page.getByTestId('pending-count').waitFor()
    await go('Settings')
    await waitFor(
      async () =>
        (await page.getByLabel('Approval timeout (seconds)', { exact: true }).inputValue()) ===
        '30',
      5000,
      'the saved timeout',
    )
    expect(await page.getByLabel('Redact argument keys', { exact: true }).inputValue()).toBe(
      'password, apiKey',
    )

    // Pause from the header: the indicator shows and calls are denied.
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await page.getByTestId('paused-indicator').waitFor()
    const client = await agent()
    const r = await echo(client, 'while paused')
    expect(r.isError).toBe(true)
    expect(textOf(r)).toContain('paused')
    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    await page.getByTestId('paused-indicator').waitFor({ state: 'detached' })
  })
})
