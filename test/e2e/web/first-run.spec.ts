/**
 * End to end: the first run in Chromium against `airlock serve` with nothing configured — the
 * three-step guide, and adding servers by pasting an `mcpServers` block (checked first: bad JSON
 * and a block without servers are refused with words that say what is wrong).
 */
import path from 'node:path'
import fs from 'node:fs'
import { screenshot } from '../../helpers/ui'
import { memory } from '../../helpers/harness'
import { expect, goTo, test } from './fixtures'

test('nothing configured: the guide shows; a pasted mcpServers block is checked, then added', async ({
  page,
  env,
}) => {
  env.writeConfig([])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  await page.goto(env.uiUrl)
  await page.locator('[data-connection=open]').waitFor()
  const guide = page.getByTestId('first-run-guide')
  await expect(guide).toBeVisible()
  await expect(guide.locator('ol > li')).toHaveCount(3)
  await expect(guide).toContainText('Add a server, or import one from a client.')
  await expect(guide).toContainText('Protect your clients.')
  await expect(guide).toContainText('Review the guarded tools.')
  await screenshot(page, 'first-run')

  await guide.getByRole('button', { name: 'Paste mcpServers' }).click()
  const paste = page.getByTestId('paste-servers')
  const box = paste.getByLabel(/Paste an mcpServers block/)
  // Bad JSON: the line and column are named; nothing can be added.
  await box.fill('{"mcpServers": {"memory": {"command": "npx",, }}}')
  await paste.getByRole('button', { name: 'Check' }).click()
  await expect(paste.getByTestId('paste-errors')).toContainText('Not valid JSON at line 1')
  await expect(paste.getByRole('button', { name: /^Add/ })).toBeDisabled()
  // No servers in it.
  await box.fill('{"theme": "dark"}')
  await paste.getByRole('button', { name: 'Check' }).click()
  await expect(paste.getByTestId('paste-errors')).toContainText('No "mcpServers" found')

  // The member alone, with a comment and a trailing comma, as READMEs show it.
  const mem = memory(path.join(env.home, 'memory.jsonl'))
  const block = `"mcpServers": {
    // the knowledge graph
    "memory": { "command": ${JSON.stringify(mem.command)}, "args": ${JSON.stringify(mem.args)}, "env": { "MEMORY_FILE_PATH": ${JSON.stringify(path.join(env.home, 'memory.jsonl'))} }, },
  }`
  await box.fill(block)
  await paste.getByRole('button', { name: 'Check' }).click()
  await expect(paste.getByTestId('paste-preview')).toContainText('memory')
  await expect(paste.getByTestId('paste-preview')).toContainText('env MEMORY_FILE_PATH')
  await paste.getByRole('button', { name: 'Add 1 server' }).click()
  // Step one is done: the guide goes (something is configured) and the server is there.
  await expect(guide).toHaveCount(0)
  const config = JSON.parse(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')) as {
    servers: { name: string; command: string; args: string[] }[]
  }
  expect(config.servers).toEqual([
    expect.objectContaining({ name: 'memory', command: mem.command, args: mem.args }),
  ])
  await goTo(page, 'Servers')
  await expect(page.locator('[data-testid=server-card][data-server=memory]')).toBeVisible()
  // An agent reaches it through Airlock.
  const { client } = await env.connect('memory')
  expect((await client.listTools()).tools.length).toBeGreaterThan(0)
})
