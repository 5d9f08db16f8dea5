/**
 * End to end: the Servers screen in Chromium against `airlock serve`. A real MCP server from npm
 * with the SDK Client connected through the real shim: its status, process id, tool count and
 * client; Restart replaces the process (a new pid) and the agent's session goes on. A hand-rolled
 * server that crashes on start: the card says failing with its stderr shown inert, and the
 * header says so on every screen.
 */
import type { Page } from '@playwright/test'
import { screenshot } from '../../helpers/ui'
import type { Env } from '../../helpers/harness'
import { alive, everything, textOf, waitFor } from '../../helpers/harness'
import { expect, goTo, test } from './fixtures'

let env: Env
let page: Page

test.beforeEach(({ page: p, env: e }) => {
  page = p
  env = e
})

const CRASH = `process.stderr.write('starting…\\n<img src=x onerror=alert(1)> cannot open db\\n'); process.exit(3)\n`

async function open(): Promise<void> {
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  await page.goto(env.uiUrl)
  await page.locator('[data-connection=open]').waitFor()
  await goTo(page, 'Servers')
}

const card = (name: string) => page.locator(`[data-testid=server-card][data-server="${name}"]`)

async function pidsOf(name: string): Promise<number[]> {
  const text = (await card(name).getByTestId('server-pids').textContent()) ?? ''
  return [...text.matchAll(/\d+/g)].map((m) => Number(m[0]))
}

test.describe('servers', () => {
  test('status, process id, tools and clients; Restart starts a new process and the session goes on', async () => {
    env.writeConfig([everything('everything')])
    await open()
    const c = card('everything')
    await expect(c.getByTestId('server-status')).toHaveAttribute('data-status', 'idle')
    await expect(c.getByTestId('server-sessions')).toHaveText('0 sessions now')

    const { client } = await env.connect('everything', { name: 'servers-agent' })
    const listed = await client.listTools()
    await expect(c.getByTestId('server-status')).toHaveAttribute('data-status', 'running')
    await expect(c.getByTestId('server-sessions')).toHaveText('1 session now')
    await expect(c.getByTestId('server-tools')).toHaveText(`${listed.tools.length} tools`)
    await expect(c.getByTestId('server-clients')).toContainText('servers-agent')
    const [before] = await pidsOf('everything')
    expect(before).toBeGreaterThan(0)
    expect(alive(before!)).toBe(true)

    await c.getByRole('button', { name: 'Restart' }).click()
    await expect(c.getByTestId('server-notice')).toContainText('Restarted 1 process')
    await waitFor(
      async () => {
        const now = await pidsOf('everything').catch(() => [])
        return now.length === 1 && now[0] !== before
      },
      15_000,
      'a new process id',
    )
    const [after] = await pidsOf('everything')
    await waitFor(() => !alive(before!), 10_000, 'the old process to end')
    expect(alive(after!)).toBe(true)
    await expect(c.getByTestId('server-status')).toHaveAttribute('data-status', 'running')
    await expect(c.getByTestId('server-last-exit')).toContainText('ended by Airlock')
    // The agent's session goes on with the new process (re-initialized by Airlock).
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'again' } }))).toBe(
      'Echo: again',
    )
    await expect(page.getByTestId('server-failing-indicator')).toHaveCount(0)
    await screenshot(page, 'servers')
  })

  test('a server that crashes on start: failing, its stderr shown inert, and the header says so', async () => {
    const script = env.writeScript('crash.js', CRASH)
    env.writeConfig([
      everything('everything'),
      { name: 'crashy', command: process.execPath, args: [script] },
    ])
    const dialogs: string[] = []
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    await open()
    const shim = env.shim('crashy')
    await shim.initialize().catch(() => undefined)
    const c = card('crashy')
    await expect(c.getByTestId('server-status')).toHaveAttribute('data-status', 'failing')
    await expect(c.getByTestId('server-last-exit')).toContainText('exited (code 3)')
    await c.getByTestId('server-stderr').locator('summary').click()
    await expect(c.getByTestId('server-stderr').locator('pre')).toContainText(
      '<img src=x onerror=alert(1)> cannot open db',
    )
    expect(await page.locator('img').count()).toBe(0)
    // The header shows it on every screen and leads to Servers.
    const indicator = page.getByTestId('server-failing-indicator')
    await expect(indicator).toHaveText('crashy failing')
    await goTo(page, 'Activity')
    await indicator.click()
    await page.getByTestId('screen-servers').waitFor()
    // Restart with nothing running checks that it starts: it does not, and says why.
    await c.getByRole('button', { name: 'Restart' }).click()
    await expect(c.getByRole('alert').first()).toContainText('exited')
    expect(dialogs).toEqual([])
  })

  test('the gateway goes away: the window says reconnecting, comes back on its own, and reloads what it shows', async () => {
    env.writeConfig([everything('everything')])
    await open()
    await expect(card('everything')).toBeVisible()
    const port = new URL(env.uiUrl!).port
    const gone = env.gateway!
    gone.kill('SIGTERM')
    await waitFor(
      () => gone.exitCode !== null || gone.signalCode !== null,
      10_000,
      'the gateway to end',
    )
    await expect(page.getByTestId('connection-banner')).toContainText('reconnecting')
    await expect(page.locator('.app')).toHaveAttribute('data-connection', 'reconnecting')
    // Changed while the window could not hear about it: only a reload after reconnecting shows it.
    env.writeConfig([everything('everything'), everything('second')])
    await env.startGateway({ port: Number(port) })
    await expect(page.locator('.app')).toHaveAttribute('data-connection', 'open', {
      timeout: 15_000,
    })
    await expect(page.getByTestId('connection-banner')).toHaveCount(0)
    await expect(card('second')).toBeVisible()
    await expect(card('everything')).toBeVisible()
  })
})
