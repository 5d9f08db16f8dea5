/**
 * OAuth for remote servers, end to end: a remote MCP server behind the SDK's own authorization
 * server pieces (mcpAuthRouter over the demo in-memory provider, requireBearerAuth on Streamable
 * HTTP; test/fixtures/servers/oauth-http-server.mjs) on 127.0.0.1. The test plays the browser:
 * it follows the sign-in link with fetch (the demo provider approves at once) to Airlock's
 * callback. The agent is the SDK Client through the real shim and gateway.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CLI, Env, textOf, waitFor } from '../helpers/harness'
import { startOAuthRemote, stopOAuthRemote, type OAuthRemote } from '../helpers/oauth-remote'

let env: Env
const remotes: OAuthRemote[] = []
const procs: ChildProcess[] = []

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
  for (const r of remotes.splice(0)) await stopOAuthRemote(r)
  for (const p of procs.splice(0)) {
    if (p.exitCode !== null || p.signalCode !== null) continue
    p.kill('SIGTERM')
    await new Promise((r) => p.once('exit', r))
  }
})

async function startRemote(): Promise<OAuthRemote> {
  const r = await startOAuthRemote(env.home)
  remotes.push(r)
  return r
}

/** The OAuth entries of server `name` in secrets.json. */
function storedOAuth(name: string): Record<string, string> {
  const file = path.join(env.home, 'secrets.json')
  if (!fs.existsSync(file)) return {}
  const all = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, string>>
  return Object.fromEntries(Object.entries(all[name] ?? {}).filter(([k]) => k.startsWith('oauth:')))
}

function accessToken(name: string): string {
  const t = storedOAuth(name)['oauth:tokens']
  return t ? (JSON.parse(t) as { access_token: string }).access_token : ''
}

interface View {
  config: { name: string }
  auth?: string
  signIn?: string
  signInUrl?: string
}

async function viewOf(name: string): Promise<View> {
  const control = await env.control()
  const list = await control.api.servers.list({})
  control.close()
  const v = list.find((s) => s.config.name === name)
  if (!v) throw new Error(`no server ${name}`)
  return v
}

async function stopGateway(): Promise<void> {
  const gw = env.gateway!
  gw.kill('SIGTERM')
  await waitFor(() => gw.exitCode !== null || gw.signalCode !== null, 10_000, 'the gateway to stop')
}

describe('OAuth remote servers', () => {
  it('an agent is told to sign in; the sign-in through the gateway stores tokens that refresh and survive a restart', async () => {
    const remote = await startRemote()
    expect((await env.run(['servers', 'add', 'remote', '--url', remote.url])).code).toBe(0)
    await env.startGateway({ port: 0 })

    // No token yet: the agent gets a clear error naming the server and what to do, not a hang.
    const refused = await env.connect('remote').then(
      () => 'connected',
      (err: Error) => err.message,
    )
    expect(refused).toContain('sign in to "remote" in Airlock')
    expect(refused).toContain('airlock servers login remote')
    // airlock serve prints the link on its console.
    await waitFor(
      () =>
        env.gatewayOutput.includes(
          `sign in to "remote" in your browser: ${remote.base}/authorize?`,
        ),
      15_000,
      'the sign-in link on the console',
    )
    expect((await env.run(['status'])).stdout).toContain(
      'sign-in needed: remote (its agents are refused until you sign in: airlock servers login remote)',
    )
    const control = await env.control()
    const started = await control.api.servers.login({
      name: 'remote',
    })
    expect(started.status).toBe('redirect')
    const startedUrl = started.url ?? ''
    expect(startedUrl.startsWith(`${remote.base}/authorize?`)).toBe(true)
    const url = new URL(startedUrl)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('redirect_uri')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/,
    )
    expect(remote.count('register')).toBe(1) // dynamic client registration
    const pending = await viewOf('remote')
    expect(pending.auth).toBe('oauth')
    expect(pending.signIn).toBe('signing-in')
    expect(pending.signInUrl).toBe(startedUrl)

    // A callback with a forged state is refused and signs nothing in.
    const callback = url.searchParams.get('redirect_uri')!
    const forged = await fetch(`${callback}?code=stolen&state=forged`)
    expect(forged.status).toBe(400)
    expect(await forged.text()).toContain('unknown')

    // The browser: the demo authorization server approves and redirects to Airlock's callback.
    const page = await fetch(startedUrl)
    expect(page.status).toBe(200)
    expect(page.url.startsWith(callback)).toBe(true)
    expect(await page.text()).toContain('Airlock is signed in to &quot;remote&quot;')
    // The same callback again (a replay) is refused.
    expect((await fetch(page.url)).status).toBe(400)
    const signedIn = await viewOf('remote')
    expect(signedIn.signIn).toBe('signed-in')
    expect((await env.run(['status'])).stdout).not.toContain('sign-in needed')
    expect(signedIn.signInUrl).toBeUndefined()

    const { client } = await env.connect('remote')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe(
      'oauth echo: hi',
    )
    // Tokens live in secrets.json (0600), never in config.json or the gateway's output.
    const first = accessToken('remote')
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(Object.keys(storedOAuth('remote')).sort()).toEqual(['oauth:client', 'oauth:tokens'])
    expect(fs.statSync(path.join(env.home, 'secrets.json')).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')).not.toContain(first)
    expect(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')).not.toContain('oauth')

    // The access token expires: the SDK refreshes it on the 401, and the call goes through.
    expect((await fetch(`${remote.base}/test/expire-tokens`, { method: 'POST' })).status).toBe(200)
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'again' } }))).toBe(
      'oauth echo: again',
    )
    expect(remote.count('refresh')).toBe(1)
    const second = accessToken('remote')
    expect(second).not.toBe(first)

    // Two agents whose token expires together: both refresh (the server rotates the refresh
    // token, so one of them may be refused and try again with the other's); both calls go through.
    const other = (await env.connect('remote', { name: 'second-agent' })).client
    expect((await fetch(`${remote.base}/test/expire-tokens`, { method: 'POST' })).status).toBe(200)
    const both = await Promise.all(
      [client, other].map((c, i) => c.callTool({ name: 'echo', arguments: { message: `c${i}` } })),
    )
    expect(both.map(textOf)).toEqual(['oauth echo: c0', 'oauth echo: c1'])
    expect(remote.count('refresh')).toBeGreaterThanOrEqual(2)
    await other.close()

    // A restarted gateway (without HTTP, this time) uses the stored token: no new sign-in.
    await client.close()
    control.close()
    await stopGateway()
    await env.startGateway()
    const again = (await env.connect('remote')).client
    expect(textOf(await again.callTool({ name: 'echo', arguments: { message: 'later' } }))).toBe(
      'oauth echo: later',
    )
    expect(remote.count('authorize')).toBe(1)
    expect(remote.count('register')).toBe(1)
    for (const t of [first, second, accessToken('remote')])
      expect(env.gatewayOutput).not.toContain(t)
    expect(JSON.stringify(env.auditRecords())).not.toContain(second)

    // Signing out forgets the tokens: the next connection is told to sign in again.
    const out = await env.run(['servers', 'logout', 'remote'])
    expect(out.code).toBe(0)
    expect(storedOAuth('remote')).toEqual({})
    const refusedAgain = await env.connect('remote', { name: 'late-agent' }).then(
      () => 'connected',
      (err: Error) => err.message,
    )
    expect(refusedAgain).toContain('sign in to "remote" in Airlock')
    // The link (its state) goes to the person only: never to an agent or the audit log.
    expect(refusedAgain).not.toContain('/authorize')
    expect(JSON.stringify(env.auditRecords())).not.toContain(url.searchParams.get('state')!)
  })

  it('airlock servers login signs in with no gateway running (its own loopback callback)', async () => {
    const remote = await startRemote()
    expect((await env.run(['servers', 'add', 'remote', '--url', remote.url])).code).toBe(0)
    const login = spawn(process.execPath, [CLI, 'servers', 'login', 'remote'], {
      env: env.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    procs.push(login)
    let out = ''
    login.stdout!.on('data', (c: Buffer) => (out += c.toString()))
    login.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    await waitFor(() => /\/authorize\?\S+/.test(out) || login.exitCode !== null, 15_000, 'the link')
    const link = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(out)?.[1]
    expect(link, out).toBeDefined()
    const exited = new Promise<number | null>((r) => login.once('exit', (code) => r(code)))
    const page = await fetch(link!)
    expect(page.status).toBe(200)
    expect(await exited).toBe(0)
    expect(out).toContain('Signed in to "remote"')
    expect(accessToken('remote')).not.toBe('')

    // A gateway started afterwards uses the token at once.
    await env.startGateway()
    const { client } = await env.connect('remote')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'cli' } }))).toBe(
      'oauth echo: cli',
    )
    expect(remote.count('authorize')).toBe(1)
  })

  it('a refused sign-in: the callback page shows the hostile error text escaped; nothing is signed in', async () => {
    const remote = await startRemote()
    await env.run(['servers', 'add', 'remote', '--url', remote.url])
    await env.startGateway({ port: 0 })
    const control = await env.control()
    const { url } = await control.api.servers.login({ name: 'remote' })
    control.close()
    const u = new URL(url ?? '')
    const back = new URL(u.searchParams.get('redirect_uri')!)
    back.searchParams.set('state', u.searchParams.get('state')!)
    back.searchParams.set('error', 'access_denied')
    back.searchParams.set('error_description', '<script>alert(1)</script>')
    const page = await fetch(back)
    expect(page.status).toBe(400)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    const body = await page.text()
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(body).not.toContain('<script>')
    const view = await viewOf('remote')
    expect(view.signIn).toBe('needs-sign-in')
    expect(storedOAuth('remote')['oauth:tokens']).toBeUndefined()
  })

  it('login refuses a server that does not use OAuth, and a command server', async () => {
    const remote = await startRemote()
    await env.run(['servers', 'add', 'plain', '--url', `${remote.base}/nothing-here`])
    const r = await env.run(['servers', 'login', 'plain', '--no-wait'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('"plain" does not offer an OAuth sign-in')
    await env.run(['servers', 'add', 'local', '--', process.execPath, '-e', ''])
    const local = await env.run(['servers', 'login', 'local'])
    expect(local.code).toBe(1)
    expect(local.stderr).toContain('not remote: there is nothing to sign in to')
  })
})
