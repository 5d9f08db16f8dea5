/**
 * End to end: adding a remote server by URL on the Servers screen, in Chromium against `airlock
 * serve`. The remote is server-everything in its streamableHttp mode on 127.0.0.1. The form
 * refuses a bad URL, a non-http(s) scheme and a taken name beside the field; a secret header is
 * marked and its value kept out of config.json; the card shows the transport, the host and the
 * tools, and an agent reaches the remote through Airlock.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { everything, ROOT, serverScript, textOf, waitFor } from '../../helpers/harness'
import { expect, goTo, test } from './fixtures'

const LOOPBACK = path.join(ROOT, 'test', 'fixtures', 'servers', 'loopback-only.mjs')
const TOKEN = 'tok-remote-form-4d2b'

/** server-everything over Streamable HTTP on 127.0.0.1 (PORT=0: the preload reports the port). */
async function startEverything(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    ['--import', pathToFileURL(LOOPBACK).href, serverScript('everything'), 'streamableHttp'],
    { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  await waitFor(
    () => /airlock-test listening \d+/.test(out) || proc.exitCode !== null,
    15_000,
    'server-everything to listen',
  )
  const port = /airlock-test listening (\d+)/.exec(out)?.[1]
  if (!port) throw new Error(`server-everything did not start: ${out}`)
  return { url: `http://127.0.0.1:${port}/mcp`, proc }
}

test('add a remote server by URL: inline errors, a secret header, the card shows transport, host and tools; an agent reaches it', async ({
  page,
  env,
}) => {
  const remote = await startEverything()
  try {
    env.writeConfig([everything('local')])
    await env.startGateway({ port: 0 })
    if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
    await page.goto(env.uiUrl)
    await page.locator('[data-connection=open]').waitFor()
    await goTo(page, 'Servers')

    await page.getByRole('button', { name: 'Add by URL' }).click()
    const form = page.getByTestId('remote-server-form')
    await form.waitFor()
    // Where secrets are kept, said beside the headers.
    await expect(form.getByTestId('secret-store')).toContainText('are never shown again')
    await expect(form.getByTestId('secret-store')).toContainText('secrets.json')
    const name = form.getByLabel('Name')
    const url = form.getByLabel('URL')

    // Errors are shown beside their field, and nothing is added.
    await name.fill('local')
    await url.fill('not a url')
    await form.getByRole('button', { name: 'Add server' }).click()
    await expect(url).toHaveAttribute('aria-invalid', 'true')
    await expect(form.locator('.field-error')).toHaveText([
      'a server named "local" already exists; pick another name or edit that one',
      '"not a url" is not a URL; enter one like https://mcp.example.com/mcp',
    ])
    await url.fill('ftp://files.example.com/mcp')
    await form.getByRole('button', { name: 'Add server' }).click()
    await expect(form.locator('.field-error').nth(1)).toHaveText(
      'ftp: URLs are not supported: Airlock reaches remote servers over http:// or https://',
    )
    const configOf = (): { servers: { name: string }[] } =>
      JSON.parse(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')) as {
        servers: { name: string }[]
      }
    expect(configOf().servers.map((s) => s.name)).toEqual(['local'])

    // A valid one, with a plain header and an Authorization header (always secret).
    await name.fill('team')
    await url.fill(remote.url)
    await form.getByRole('button', { name: 'Add header' }).click()
    await form.getByRole('button', { name: 'Add header' }).click()
    await form.getByLabel('Header 1 name').fill('X-Team')
    await form.getByLabel('Header 1 value').fill('platform')
    await form.getByLabel('Header 2 name').fill('Authorization')
    await form.getByLabel('Header 2 value').fill(`Bearer ${TOKEN}`)
    const rows = form.getByTestId('header-row')
    await expect(rows.nth(0).getByRole('checkbox')).not.toBeChecked()
    await expect(rows.nth(1).getByRole('checkbox')).toBeChecked()
    await expect(rows.nth(1).getByRole('checkbox')).toBeDisabled()
    await expect(form.getByLabel('Header 2 value')).toHaveAttribute('type', 'password')
    await form.getByRole('button', { name: 'Add server' }).click()
    await form.waitFor({ state: 'detached' })

    // Added through servers.add as `servers add --url --header` adds it: the secret is stored apart.
    const configText = fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')
    expect(configText).not.toContain(TOKEN)
    const added = (JSON.parse(configText) as { servers: Record<string, unknown>[] }).servers.find(
      (s) => s.name === 'team',
    )
    expect(added).toMatchObject({
      url: remote.url,
      headers: { 'X-Team': 'platform' },
      secretHeaders: ['Authorization'],
    })
    expect(fs.readFileSync(path.join(env.home, 'secrets.json'), 'utf8')).toContain(TOKEN)
    const list = await env.run(['servers', 'list'])
    expect(list.stdout).toContain('team')
    expect(list.stdout).not.toContain(TOKEN)

    // The card: the URL, the host, and the transport once Airlock has reached it; its tools.
    const card = page.locator('[data-testid=server-card][data-server="team"]')
    await expect(card.getByTestId('server-host')).toHaveText(new URL(remote.url).host)
    await expect(card.getByTitle('URL')).toHaveText(remote.url)
    await expect(card.getByTestId('server-auth')).toContainText('Authorization in the secret store')
    await card.getByRole('button', { name: 'Discover tools' }).click()
    const tools = card.getByTestId('discovered-tools')
    await expect(tools).toContainText('echo')
    await expect(tools).toContainText('get-sum')
    await expect(card.getByTestId('server-transport')).toHaveAttribute(
      'data-transport',
      'streamable-http',
    )
    await expect(card.getByTestId('server-transport')).toContainText('remote: Streamable HTTP')

    // An agent reaches the remote's tool through Airlock.
    const { client } = await env.connect('team', { name: 'form-agent' })
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'form' } }))).toBe(
      'Echo: form',
    )
    await expect(card.getByTestId('server-clients')).toContainText('form-agent')

    // Edit opens the URL form with the secret kept (not shown) and the plain header as it is.
    await card.getByRole('button', { name: 'Edit' }).click()
    const edit = page.getByTestId('remote-server-form')
    await expect(edit.getByLabel('URL')).toHaveValue(remote.url)
    await expect(edit.getByLabel('Header 1 value')).toHaveValue('platform')
    await expect(edit.getByLabel('Header 2 value')).toHaveValue('')
    await expect(edit.getByLabel('Header 2 value')).toHaveAttribute(
      'placeholder',
      'unchanged (stored securely)',
    )
    await edit.getByRole('button', { name: 'Save server' }).click()
    await edit.waitFor({ state: 'detached' })
    expect(fs.readFileSync(path.join(env.home, 'secrets.json'), 'utf8')).toContain(TOKEN)
  } finally {
    remote.proc.kill('SIGTERM')
    if (remote.proc.exitCode === null && remote.proc.signalCode === null)
      await new Promise((r) => remote.proc.once('exit', r))
  }
})
