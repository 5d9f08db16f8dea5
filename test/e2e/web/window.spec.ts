/**
 * End to end (issue 12, "the window people live in"): the approval card's "deny with a message"
 * and "allow for 1 hour", the Tools & policy screen's fixes, headless secrets and the compressed
 * bundle — in Chromium against `airlock serve`, with the SDK Client as the agent through the real
 * `airlock connect` shim.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Page } from '@playwright/test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { expect, goTo, test, type Screen } from './fixtures'
import type { Env } from '../../helpers/harness'
import { everything, memory, textOf } from '../../helpers/harness'

let env: Env
let page: Page

test.beforeEach(({ page: p, env: e }) => {
  page = p
  env = e
})

/** Writes a policy for `everything`, starts `airlock serve --port 0`, and opens its URL. */
async function start(policy: Record<string, unknown>): Promise<void> {
  const file = env.writePolicy('everything', { version: '1', ...policy })
  env.writeConfig([everything('everything', { policy: file })])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  await page.goto(env.uiUrl)
  await page.getByTestId('pending-count').waitFor()
  await page.locator('[data-connection=open]').waitFor()
}

async function agent(): Promise<Client> {
  return (await env.connect('everything', { name: 'e2e-agent' })).client
}

const echo = (client: Client, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } })

async function go(screen: Screen): Promise<void> {
  await goTo(page, screen)
}

const ask = {
  default: 'allow',
  tools: { echo: { rules: [{ name: 'ask before echo', action: 'require_approval' }] } },
}

test.describe('approval card: deny with a message, allow for 1 hour', () => {
  test('deny with a message: the agent reads the person’s words in its error', async () => {
    await start(ask)
    await go('Approvals')
    const client = await agent()
    const call = echo(client, 'drop the prod table')
    const card = page.getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    await card.getByTestId('deny-with-message').click()
    const field = card.getByTestId('deny-message').getByRole('textbox')
    await expect(field).toBeFocused()
    // Typing answers nothing: A, S, H and D are letters here.
    await field.fill('Use the staging server instead\nand ask me first')
    await field.press('Enter')
    const result = await call
    expect(result.isError).toBe(true)
    expect(textOf(result)).toContain(
      'the user denied "echo" on "everything" with this message: "Use the staging server instead and ask me first"',
    )
    await card.waitFor({ state: 'detached' })
    const rec = env.auditRecords().find((r) => r.kind === 'call')
    expect(rec).toMatchObject({ decision: 'denied_by_user', decidedBy: 'user' })
    expect(String(rec?.reason)).toContain('"Use the staging server instead and ask me first"')
    expect(env.auditRecords().filter((r) => r.kind === 'outcome')).toHaveLength(0)
  })

  test('allow for 1 hour: a second call, from another session too, passes without a card', async () => {
    await start(ask)
    await go('Approvals')
    const client = await agent()
    const first = echo(client, 'one')
    const card = page.getByTestId('approval-card')
    await card.waitFor({ timeout: 10_000 })
    const before = Date.now()
    await card.getByRole('button', { name: /Allow for 1 hour/ }).click()
    expect(textOf(await first)).toBe('Echo: one')
    await card.waitFor({ state: 'detached' })

    await page.evaluate(`(() => {
      window.__cards = 0
      new MutationObserver(() => { if (document.querySelector('[data-testid=approval-card]')) window.__cards++ })
        .observe(document.body, { subtree: true, childList: true })
    })()`)
    expect(textOf(await echo(client, 'two'))).toBe('Echo: two')
    const other = await agent()
    expect(textOf(await echo(other, 'three'))).toBe('Echo: three')
    expect(await page.evaluate('window.__cards')).toBe(0)
    const calls = env.auditRecords().filter((r) => r.kind === 'call')
    expect(calls.map((r) => r.decidedBy)).toEqual(['user', 'grant', 'grant'])

    // The grant is listed with its expiry, one hour from the answer.
    const grant = page.getByTestId('grant')
    await grant.waitFor()
    expect(await grant.textContent()).toMatch(/this tool, from every client and session · expires /)
    const control = await env.control()
    const grants = await control.api.grants.list()
    expect(grants).toHaveLength(1)
    expect(grants[0]?.scope).toBe('tool')
    const until = grants[0]?.until ?? 0
    expect(until - before).toBeGreaterThanOrEqual(60 * 60_000 - 1000)
    expect(until - Date.now()).toBeLessThanOrEqual(60 * 60_000)
  })
})

test.describe('headless host: secrets, compressed bundle, icons', () => {
  test('a secret env value goes to secrets.json (0600), never config.json, and the form says so', async () => {
    await start({ default: 'allow' })
    await go('Servers')
    await page.getByRole('button', { name: 'Add server' }).click()
    const form = page.getByTestId('server-form')
    await form.getByLabel('Name', { exact: true }).fill('memory')
    await form.getByLabel('Command', { exact: true }).fill(process.execPath)
    const mem = memory(path.join(env.home, 'memory.jsonl'))
    await form
      .getByLabel('Arguments (one per line)', { exact: true })
      .fill((mem.args ?? []).join('\n'))
    await form.getByRole('button', { name: 'Add variable' }).click()
    await form.getByLabel('Variable 1 name', { exact: true }).fill('API_TOKEN')
    await form.getByLabel('Variable 1 value', { exact: true }).fill('s3cret-value-42')
    await form.getByTestId('env-row').getByRole('checkbox', { name: 'secret' }).check()
    const secretsFile = path.join(env.home, 'secrets.json')
    await expect(form.getByTestId('secret-store')).toContainText(secretsFile)
    await expect(form.getByTestId('secret-store')).toContainText('not config.json')
    await form.getByRole('button', { name: 'Add server', exact: true }).click()
    await page.locator('[data-testid=server-card][data-server=memory]').waitFor()

    const configText = fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')
    expect(configText).not.toContain('s3cret-value-42')
    const config = JSON.parse(configText) as {
      servers: { name: string; env: Record<string, string>; secretEnv: string[] }[]
    }
    const saved = config.servers.find((s) => s.name === 'memory')
    expect(saved?.secretEnv).toEqual(['API_TOKEN'])
    expect(saved?.env).not.toHaveProperty('API_TOKEN')
    expect(JSON.parse(fs.readFileSync(secretsFile, 'utf8'))).toEqual({
      memory: { API_TOKEN: 's3cret-value-42' },
    })
    if (process.platform !== 'win32') expect(fs.statSync(secretsFile).mode & 0o777).toBe(0o600)
  })

  test('the bundle arrives compressed, /favicon.ico is the icon, the paused mark is an SVG', async () => {
    const encodings = new Map<string, string | undefined>()
    page.on('response', (r) => {
      if (/\.(js|css)$/.test(new URL(r.url()).pathname))
        encodings.set(new URL(r.url()).pathname, r.headers()['content-encoding'])
    })
    await start({ default: 'allow' })
    expect(encodings.size).toBeGreaterThan(0)
    for (const [file, enc] of encodings) expect([file, enc]).toEqual([file, 'br'])
    const js = [...encodings.keys()].find((f) => f.endsWith('.js')) as string
    const res = await page.request.get(new URL(js, env.uiUrl).href, {
      headers: { 'Accept-Encoding': 'gzip' },
    })
    expect(res.headers()['content-encoding']).toBe('gzip')
    expect(res.headers()['vary']).toBe('Accept-Encoding')
    expect((await res.body()).length).toBeGreaterThan(1000)

    const icon = await page.request.get(new URL('/favicon.ico', env.uiUrl).href)
    expect(icon.status()).toBe(200)
    expect(icon.headers()['content-type']).toBe('image/svg+xml')
    expect(await icon.text()).toContain('<svg')

    await page.getByRole('button', { name: /Pause/ }).first().click()
    const pill = page.getByTestId('paused-indicator')
    await expect(pill).toHaveText('Paused')
    await expect(pill.locator('svg.pause-glyph')).toBeVisible()
  })
})

test.describe('tools & policy', () => {
  const CHECKOUT_POLICY = `version: "1"
default: allow
tools:
  "*":
    rules:
      - name: at most 100 a minute
        action: evaluate
        rate_limit: 100/minute
  echo:
    rules:
      - name: no secrets in echo
        action: deny
        conditions:
          - path: args.message
            op: contains
            value: secret
`

  test('no spurious prompts; conditional, * rules and legend shown; Save off on bad YAML; try a call; a copy in the data directory; history undo', async () => {
    const checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-checkout-'))
    try {
      const theirs = path.join(checkout, 'everything.yaml')
      fs.writeFileSync(theirs, CHECKOUT_POLICY)
      env.writeConfig([
        everything('everything', { policy: theirs }),
        memory(path.join(env.home, 'memory.jsonl')),
      ])
      await env.startGateway({ port: 0 })
      const dialogs: string[] = []
      page.on('dialog', (d) => {
        dialogs.push(d.message())
        void d.dismiss()
      })
      await page.goto(env.uiUrl as string)
      await page.locator('[data-connection=open]').waitFor()
      const client = await agent()
      await go('Tools & policy')
      const picker = page.getByLabel('Server', { exact: true })
      const row = page.locator('[data-testid=tool-row][data-tool=echo]')
      await row.waitFor({ timeout: 15_000 })

      // Legend, the "*" rule, the conditional deny, where a save goes.
      await expect(page.getByTestId('policy-legend')).toContainText('hide')
      await expect(page.getByTestId('pattern-rules')).toContainText('* (every tool)')
      await expect(page.getByTestId('pattern-rules')).toContainText('at most 100/minute')
      await expect(row.getByTestId('tool-conditional')).toHaveText('conditional')
      await expect(row.getByTestId('tool-effective')).not.toContainText('denied')
      await expect(page.getByTestId('policy-path')).toContainText('Save keeps a copy')
      await expect(row.getByLabel('Rate limit for echo', { exact: true })).toHaveAttribute(
        'placeholder',
        'no limit',
      )

      // Nothing changed: switching servers asks nothing. A proposal can be saved as it is.
      await picker.selectOption('memory')
      await expect(page.getByTestId('policy-path')).toHaveText('proposed (not saved yet)', {
        timeout: 15_000,
      })
      const save = page.getByRole('button', { name: 'Save policy' })
      await expect(save).toBeEnabled()
      await save.click()
      await page.getByTestId('policy-status').getByText('Saved').waitFor()
      await expect(page.getByTestId('policy-path')).toHaveText(
        path.join(env.home, 'policies', 'memory.yaml'),
      )
      await picker.selectOption('everything')
      await row.waitFor()
      expect(dialogs).toEqual([])

      // Try a call: the engine's decision for a tool and arguments.
      const tryBox = page.getByTestId('try-call')
      await tryBox.getByLabel('Tool', { exact: true }).fill('echo')
      await tryBox.getByLabel('Arguments (JSON)').fill('{"message": "my secret"}')
      await tryBox.getByRole('button', { name: 'Try' }).click()
      await expect(tryBox.getByTestId('try-result')).toHaveAttribute('data-kind', 'deny')
      await expect(tryBox.getByTestId('try-result')).toContainText('no secrets in echo')
      await tryBox.getByLabel('Arguments (JSON)').fill('{"message": "hello"}')
      await tryBox.getByRole('button', { name: 'Try' }).click()
      await expect(tryBox.getByTestId('try-result')).toHaveAttribute('data-kind', 'allow')

      // Save is off while the text does not parse.
      const yaml = page.getByLabel('Policy YAML', { exact: true })
      await yaml.fill('tools: [\n')
      await expect(save).toBeDisabled()
      await page.getByTestId('save-blocked').waitFor()
      await yaml.fill(CHECKOUT_POLICY)
      await expect(save).toBeDisabled() // nothing changed

      // A table edit gets a rule name that says what it does; the agent is told that name.
      await row.getByLabel('Action for echo', { exact: true }).selectOption('deny')
      await expect.poll(() => yaml.inputValue(), { timeout: 10_000 }).toContain('echo: denied')
      await expect(save).toBeEnabled()
      await save.click()
      await page.getByTestId('policy-status').getByText('Saved').waitFor()
      const denied = await echo(client, 'hello')
      expect(denied.isError).toBe(true)
      expect(textOf(denied)).toContain('echo: denied')
      // Saved into the data directory; the checkout's file is untouched.
      const copy = path.join(env.home, 'policies', 'everything.yaml')
      expect(fs.readFileSync(copy, 'utf8')).toContain('echo: denied')
      expect(fs.readFileSync(theirs, 'utf8')).toBe(CHECKOUT_POLICY)
      await expect(page.getByTestId('policy-path')).toHaveText(copy)

      // History: the version before the first save, with its diff; Restore undoes the save.
      const history = page.getByTestId('policy-history')
      const versions = history.getByTestId('policy-version')
      await expect(versions).toHaveCount(2)
      const oldest = versions.nth(1)
      await oldest.getByRole('button', { name: 'Changes since' }).click()
      await expect(history.getByTestId('plan-diff')).toContainText('+        action: deny')
      await oldest.getByRole('button', { name: 'Restore' }).click()
      await page.getByTestId('policy-status').getByText('Restored').waitFor()
      await expect(versions).toHaveCount(3)
      expect(fs.readFileSync(copy, 'utf8')).toBe(CHECKOUT_POLICY)
      expect(textOf(await echo(client, 'hello again'))).toBe('Echo: hello again')
      expect(await yaml.inputValue()).toBe(CHECKOUT_POLICY)
      expect(dialogs).toEqual([])
    } finally {
      fs.rmSync(checkout, { recursive: true, force: true })
    }
  })
})
