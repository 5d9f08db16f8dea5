/**
 * End to end: the Clients screen of the web UI that `airlock serve` serves, in Debian's
 * Chromium, against the real gateway with a temp user home (`AIRLOCK_CLIENTS_HOME`) holding
 * Claude Desktop and Cursor configs. Protect shows the diff and writes nothing; Apply rewrites
 * the file to run `airlock connect`; a client rewriting the entry back shows "not protected"
 * within seconds; Re-protect fixes it. With AIRLOCK_SCREENSHOTS=1 it writes
 * docs/screenshots/clients.png.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { expect, goTo, test } from './fixtures'
import { Env, ROOT, serverScript } from '../../helpers/harness'

const SHOTS =
  process.env.AIRLOCK_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : undefined

/** An Env whose `airlock serve` looks for MCP clients in a temp user home, never the real one. */
class ClientsEnv extends Env {
  readonly userHome = path.join(this.home, 'user-home')
  override get env(): NodeJS.ProcessEnv {
    return { ...super.env, AIRLOCK_CLIENTS_HOME: this.userHome }
  }
  /** Writes `text` at `relative` under the user home; returns the absolute path. */
  put(relative: string, text: string): string {
    const file = path.join(this.userHome, relative)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, text)
    return file
  }
}

const CLAUDE = `{
  "mcpServers": {
    "everything": {
      "command": ${JSON.stringify(process.execPath)},
      "args": [${JSON.stringify(serverScript('everything'))}, "stdio"]
    }
  },
  "globalShortcut": "Alt+Space"
}
`

const CURSOR = `{
  "mcpServers": {
    "memory": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"]
    },
    "notion": { "url": "https://mcp.notion.com/mcp" }
  }
}
`

let env: ClientsEnv
let page: Page

test.beforeAll(() => {
  if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true })
})

// This screen needs a temp user home beside the data directory: its own Env, not the fixture's.
test.beforeEach(({ page: p }) => {
  page = p
  env = new ClientsEnv()
})

test.afterEach(async () => {
  await env.cleanup()
})

/** Starts `airlock serve --port 0` (no servers yet) and opens the Clients screen. */
async function open(): Promise<Page> {
  env.writeConfig([])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  const p = page
  await p.goto(env.uiUrl)
  await p.locator('[data-connection=open]').waitFor()
  await goTo(p, 'Clients')
  await p.getByTestId('screen-clients').waitFor()
  return p
}

function entry(card: Locator, server: string): Locator {
  return card.locator(`[data-testid=client-entry][data-server="${server}"]`)
}

async function shot(p: Page, name: string): Promise<void> {
  if (!SHOTS) return
  await p.mouse.move(1399, 899)
  await p.waitForTimeout(300)
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`) })
}

test.describe('the Clients screen', () => {
  test('lists, protects with a reviewed diff, notices drift and re-protects', async () => {
    const file = env.put('.config/Claude/claude_desktop_config.json', CLAUDE)
    env.put('.cursor/mcp.json', CURSOR)
    const p = await open()

    // Listed: both clients, their entries, route and protection.
    const claude = p.locator('[data-testid=client-card][data-client=claude-desktop]')
    await claude.waitFor()
    expect(await claude.getByRole('heading', { level: 3 }).textContent()).toBe('Claude Desktop')
    expect(await claude.textContent()).toContain(file)
    const everything = entry(claude, 'everything')
    expect(await everything.getAttribute('data-protected')).toBe('false')
    expect(await everything.textContent()).toContain('stdio')
    const cursor = p.locator('[data-testid=client-card][data-client=cursor]')
    expect(await entry(cursor, 'notion').textContent()).toContain('http')

    // Protect: the diff, as text, and nothing written.
    await claude.getByRole('button', { name: 'Protect (Claude Desktop)' }).click()
    const panel = claude.getByTestId('plan-panel')
    await panel.waitFor()
    const diff = panel.getByTestId('plan-diff')
    expect(await diff.locator('.diff-add').allTextContents()).toContainEqual(
      expect.stringContaining('"connect", "everything"'),
    )
    expect(await diff.locator('.diff-del').allTextContents()).toContainEqual(
      expect.stringContaining('server-everything'),
    )
    expect(await panel.getByTestId('plan-notes').textContent()).toContain(
      'Adds "everything" to Airlock',
    )
    expect(fs.readFileSync(file, 'utf8')).toBe(CLAUDE)

    // Apply rewrites the file to run `airlock connect`.
    await panel.getByRole('button', { name: 'Apply: protect' }).click()
    await claude.getByTestId('apply-outcome').waitFor()
    expect(await claude.getByTestId('apply-outcome').textContent()).toContain(`wrote ${file}`)
    await panel.waitFor({ state: 'detached' })
    const wrapped = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      mcpServers: { everything: { command: string; args: string[] } }
      globalShortcut: string
    }
    expect(wrapped.mcpServers.everything.args).toEqual([
      path.join(ROOT, 'bin', 'airlock.js'),
      'connect',
      'everything',
    ])
    expect(wrapped.globalShortcut).toBe('Alt+Space')
    await everything.locator('[data-testid=protected-badge]').waitFor()
    expect(await p.getByTestId('drift-indicator').count()).toBe(0)
    // Routed through Airlock is not protected: the entry says what Airlock does with the calls,
    // in the words of the Servers screen and "airlock policy show".
    await expect(everything.getByTestId('protected-badge')).toHaveText('routed through Airlock')
    await expect(everything.getByTestId('entry-protection')).toContainText('Routed through Airlock')

    // The client rewrites its entry back: "not protected" within a few seconds.
    fs.writeFileSync(file, CLAUDE)
    const rewrittenAt = Date.now()
    await everything.getByTestId('drift-badge').waitFor({ timeout: 8000 })
    expect(Date.now() - rewrittenAt).toBeLessThan(8000)
    expect(await everything.getByTestId('drift-badge').textContent()).toContain('not protected')
    await p.getByTestId('drift-indicator').waitFor()
    expect(await p.getByTestId('drift-banner').textContent()).toContain('everything')

    // Re-protect: plan, the diff, apply.
    await everything.getByRole('button', { name: /^Re-protect/ }).click()
    await panel.waitFor()
    expect(await panel.getByRole('heading').textContent()).toBe(
      'Protect everything in Claude Desktop',
    )
    expect(await panel.getByTestId('plan-diff').textContent()).toContain('connect')
    await shot(p, 'clients')
    await panel.getByRole('button', { name: 'Apply: protect' }).click()
    await everything.locator('[data-testid=protected-badge]').waitFor()
    await p.getByTestId('drift-indicator').waitFor({ state: 'detached' })
    expect(fs.readFileSync(file, 'utf8')).toContain('"connect"')
  })

  test('Cancel (or Escape) writes nothing; Restore puts the file back byte for byte', async () => {
    const file = env.put('.config/Claude/claude_desktop_config.json', CLAUDE)
    const p = await open()
    const claude = p.locator('[data-testid=client-card][data-client=claude-desktop]')
    const protect = claude.getByRole('button', {
      name: 'Protect this server (everything in Claude Desktop)',
    })
    await protect.click()
    const panel = claude.getByTestId('plan-panel')
    await panel.waitFor()
    // Keyboard: focus is in the panel; Escape closes it and returns focus to the button.
    await p.keyboard.press('Escape')
    await panel.waitFor({ state: 'detached' })
    expect(await p.locator(':focus').getAttribute('aria-label')).toBe(
      'Protect this server (everything in Claude Desktop)',
    )
    await p.keyboard.press('Enter')
    await panel.waitFor()
    await panel.getByRole('button', { name: 'Cancel' }).click()
    await panel.waitFor({ state: 'detached' })
    expect(fs.readFileSync(file, 'utf8')).toBe(CLAUDE)

    await claude.getByRole('button', { name: 'Protect (Claude Desktop)' }).click()
    await panel.getByRole('button', { name: 'Apply: protect' }).click()
    await entry(claude, 'everything').locator('[data-testid=protected-badge]').waitFor()
    await claude.getByRole('button', { name: 'Restore (Claude Desktop)' }).click()
    await panel.waitFor()
    expect(await panel.getAttribute('data-action')).toBe('restore')
    expect(await panel.textContent()).toContain('byte for byte')
    await panel.getByRole('button', { name: 'Apply: restore' }).click()
    await entry(claude, 'everything').getByTestId('unprotected-badge').waitFor()
    expect(fs.readFileSync(file, 'utf8')).toBe(CLAUDE)
  })

  test('a URL entry is protectable: it becomes an Airlock remote server and runs the shim; Restore gives it back', async () => {
    const file = env.put('.cursor/mcp.json', CURSOR)
    const p = await open()
    const cursor = p.locator('[data-testid=client-card][data-client=cursor]')
    const notion = entry(cursor, 'notion')
    await notion.waitFor()
    expect(await notion.getAttribute('data-protected')).toBe('false')
    expect(await notion.textContent()).toContain('https://mcp.notion.com/mcp')
    await notion.getByRole('button', { name: 'Protect this server (notion in Cursor)' }).click()
    const panel = cursor.getByTestId('plan-panel')
    await panel.waitFor()
    expect(await panel.getByTestId('plan-notes').textContent()).toContain(
      'Adds "notion" to Airlock\'s servers: https://mcp.notion.com/mcp',
    )
    const diff = panel.getByTestId('plan-diff')
    expect(await diff.locator('.diff-del').allTextContents()).toContainEqual(
      expect.stringContaining('"url": "https://mcp.notion.com/mcp"'),
    )
    expect(await diff.locator('.diff-add').allTextContents()).toContainEqual(
      expect.stringContaining('"connect", "notion"'),
    )
    await panel.getByRole('button', { name: 'Apply: protect' }).click()
    await notion.locator('[data-testid=protected-badge]').waitFor()
    expect(await notion.getAttribute('data-protected')).toBe('true')
    const wrapped = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      mcpServers: { notion: Record<string, unknown> }
    }
    expect(wrapped.mcpServers.notion).not.toHaveProperty('url')
    expect(wrapped.mcpServers.notion.args).toEqual([
      path.join(ROOT, 'bin', 'airlock.js'),
      'connect',
      'notion',
    ])
    // The memory entry was left as it was (protected by name only).
    expect(await entry(cursor, 'memory').getAttribute('data-protected')).toBe('false')

    await notion.getByRole('button', { name: 'Restore (notion in Cursor)' }).click()
    await panel.waitFor()
    await panel.getByRole('button', { name: 'Apply: restore' }).click()
    await notion.getByTestId('unprotected-badge').waitFor()
    expect(fs.readFileSync(file, 'utf8')).toBe(CURSOR)
  })

  test('says so when no MCP client is set up', async () => {
    const p = await open()
    await p.getByTestId('clients-empty').waitFor()
    expect(await p.getByTestId('clients-empty').textContent()).toContain(
      'No MCP clients found on this machine',
    )
  })
})
