/**
 * `airlock serve`'s web UI server, as a real process: the static files and their headers, the
 * token-authenticated WebSocket (Host and Origin checks against DNS rebinding and cross-site
 * sockets, message cap), and an approval that appears as an event over the WebSocket and, once
 * decided there, lets the agent's call through.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CLI, Env, everything, textOf, waitFor } from '../helpers/harness'

let env: Env
afterEach(async () => env?.cleanup())

interface Ui {
  port: number
  token: string
}

async function start(extra?: () => void): Promise<Ui> {
  env = new Env()
  extra?.()
  await env.startGateway({ port: 0 })
  const m = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([0-9a-f]{64})$/.exec(env.uiUrl ?? '')
  if (!m) throw new Error(`no web UI URL in the output:\n${env.gatewayOutput}`)
  return { port: Number(m[1]), token: m[2] as string }
}

/** A raw HTTP GET (path sent as is, headers as given). */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        headers: { host: `127.0.0.1:${port}`, ...headers },
      },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

interface Conn {
  ws: WebSocket
  messages: Record<string, unknown>[]
  closed: Promise<{ code: number; reason: string }>
  /** Sends a request and resolves with its answer. */
  request(method: string, params?: unknown): Promise<Record<string, unknown>>
  /** Resolves with the first event of this name from index `from` on. */
  event(name: string, from?: number, timeoutMs?: number): Promise<unknown>
}

/** Opens a WebSocket; resolves once open, or with the HTTP status when the upgrade is refused. */
function connect(
  port: number,
  opts: { host?: string; origin?: string; auth?: string | false } = {},
): Promise<Conn | { refused: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {}
    if (opts.host) headers.host = opts.host
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, {
      headers,
      ...(opts.origin ? { origin: opts.origin } : {}),
    })
    const messages: Record<string, unknown>[] = []
    let nextId = 1
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    )
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>))
    ws.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }))
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err)
    })
    ws.on('open', () => {
      const conn: Conn = {
        ws,
        messages,
        closed,
        async request(method, params = {}) {
          const id = nextId++
          const from = messages.length
          ws.send(JSON.stringify({ id, method, params }))
          let found: Record<string, unknown> | undefined
          await waitFor(
            () => (found = messages.slice(from).find((m) => m.id === id)) !== undefined,
            20_000,
            `the answer to ${method}`,
          )
          return found as Record<string, unknown>
        },
        async event(name, from = 0, timeoutMs = 10_000) {
          let found: Record<string, unknown> | undefined
          await waitFor(
            () => (found = messages.slice(from).find((m) => m.event === name)) !== undefined,
            timeoutMs,
            `event ${name}`,
          )
          return (found as Record<string, unknown>).data
        },
      }
      if (opts.auth !== false && opts.auth !== undefined)
        ws.send(JSON.stringify({ type: 'auth', token: opts.auth }))
      resolve(conn)
    })
  })
}

async function authed(ui: Ui): Promise<Conn> {
  const c = await connect(ui.port, { auth: ui.token })
  if ('refused' in c) throw new Error(`refused: ${c.refused}`)
  await waitFor(() => c.messages.some((m) => m.type === 'auth' && m.ok === true), 5000, 'auth ok')
  return c
}

describe('airlock serve: web UI server', () => {
  it('serves pages with a strict CSP on 127.0.0.1 only, and refuses traversal and foreign hosts', async () => {
    const ui = await start()
    const page = await get(ui.port, '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'self'; connect-src 'self' ws://127.0.0.1:${ui.port} ws://localhost:${ui.port}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    expect(page.body).not.toContain(ui.token)
    expect((await get(ui.port, '/', { host: `localhost:${ui.port}` })).status).toBe(200)
    // Text is served compressed to a browser that accepts it (fetch sends gzip, some versions br too).
    const compressed = await fetch(`http://127.0.0.1:${ui.port}/`)
    expect(compressed.headers.get('content-encoding')).toMatch(/^(br|gzip)$/)
    expect(compressed.headers.get('vary')).toBe('Accept-Encoding')
    expect(await compressed.text()).toContain('<div id="root"></div>')

    for (const p of [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fconfig.json',
      '/..%5c..%5cconfig.json',
      '/%00index.html',
      '/ui-token.txt',
    ]) {
      const r = await get(ui.port, p)
      expect(r.status, p).toBe(404)
      expect(r.body).not.toContain('root:')
    }
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
    expect((await get(ui.port, '/', { host: `evil.example:${ui.port}` })).status).toBe(421)
    expect((await get(ui.port, '/', { host: '127.0.0.1' })).status).toBe(421)

    // The control connection on the agent socket reaches the same control service.
    const control = await env.control()
    expect(await control.api.servers.list()).toEqual([])
    expect(await control.api.audit.query({ limit: 5 })).toEqual({ rows: [], hasMore: false })
    await expect(control.call('servers.remove', { bogus: true })).rejects.toThrow(/invalid params/)
  })

  it('answers the OAuth sign-in callback without the UI token, under the same Host rule', async () => {
    const { port } = await start()
    const forged = await get(port, '/oauth/callback?code=c&state=forged')
    expect(forged.status).toBe(400)
    expect(forged.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    )
    expect(forged.headers['referrer-policy']).toBe('no-referrer')
    expect(forged.headers['cache-control']).toBe('no-store')
    expect(forged.body).toContain('This sign-in link is unknown')
    const rebound = await get(port, '/oauth/callback?code=c&state=s', {
      host: `evil.example:${port}`,
    })
    expect(rebound.status).toBe(421)
  })

  it('refuses WebSockets with a foreign Origin or Host, and without the right token', async () => {
    const ui = await start()
    expect(await connect(ui.port, { origin: 'http://evil.example' })).toEqual({ refused: 403 })
    expect(await connect(ui.port, { origin: `http://evil.example:${ui.port}` })).toEqual({
      refused: 403,
    })
    expect(await connect(ui.port, { host: `evil.example:${ui.port}` })).toEqual({ refused: 421 })

    const wrong = await connect(ui.port, { auth: 'f'.repeat(64) })
    if ('refused' in wrong) throw new Error('refused')
    expect((await wrong.closed).code).toBe(4401)
    expect(wrong.messages).toEqual([
      { type: 'auth', ok: false, error: expect.stringMatching(/wrong or missing token/) },
    ])

    // A request before authenticating is not answered: the socket is closed.
    const none = await connect(ui.port, { auth: false })
    if ('refused' in none) throw new Error('refused')
    none.ws.send(JSON.stringify({ id: 1, method: 'status.get', params: {} }))
    expect((await none.closed).code).toBe(4401)
    expect(none.messages.some((m) => 'result' in m)).toBe(false)

    // The page's own origin, the right token: answered; oversized messages close the socket.
    const ok = await connect(ui.port, { origin: `http://127.0.0.1:${ui.port}`, auth: ui.token })
    if ('refused' in ok) throw new Error('refused')
    await waitFor(() => ok.messages.some((m) => m.type === 'auth' && m.ok === true))
    const status = await ok.request('status.get')
    expect(status.result).toMatchObject({ paused: false, pending: 0 })
    const bad = await ok.request('servers.add', { server: { name: '../evil', command: 'x' } })
    expect(bad.error).toMatchObject({
      code: 'INVALID_PARAMS',
      message: expect.stringMatching(/server\.name/),
    })
    ok.ws.send('x'.repeat(1024 * 1024 + 10))
    expect((await ok.closed).code).toBe(1009)
  })

  it('shows an approval over the WebSocket within a second; deciding it there lets the call through', async () => {
    const ui = await start(() => {
      const policy = env.writePolicy('everything', {
        version: '1',
        default: 'allow',
        tools: { echo: { rules: [{ name: 'ask-echo', action: 'require_approval' }] } },
      })
      env.writeConfig([everything('everything', { policy })])
    })
    const conn = await authed(ui)
    const { client } = await env.connect('everything')

    const from = conn.messages.length
    const asked = Date.now()
    const call = client.callTool({
      name: 'echo',
      arguments: { message: '<img src=x onerror=alert(1)>' },
    })
    const req = (await conn.event('approval.requested', from, 10_000)) as {
      id: string
      tool: string
      server: string
      risk: string
      argsExcerpt: string
    }
    expect(Date.now() - asked).toBeLessThan(1000)
    expect(req).toMatchObject({ tool: 'echo', server: 'everything', risk: 'low' })
    expect(req.argsExcerpt).toContain('<img src=x onerror=alert(1)>')
    const listed = await conn.request('approvals.list')
    expect((listed.result as { id: string }[]).map((r) => r.id)).toEqual([req.id])

    const decided = await conn.request('approvals.decide', { id: req.id, answer: 'allow_once' })
    expect(decided.result).toBe('ok')
    const result = await call
    expect(result.isError).toBeFalsy()
    expect(textOf(result)).toContain('<img src=x onerror=alert(1)>')
    expect(await conn.event('approval.resolved', from)).toEqual({
      id: req.id,
      outcome: { answer: 'allow_once', by: 'web UI' },
    })

    // The Activity view: live rows, then the query joins the call and its outcome.
    await waitFor(
      () =>
        conn.messages
          .slice(from)
          .some(
            (m) =>
              m.event === 'audit.appended' && (m.data as { outcome?: string }).outcome === 'ok',
          ),
      5000,
      'the outcome row',
    )
    const page = await conn.request('audit.query', {
      filter: { server: 'everything', tool: 'echo' },
    })
    expect((page.result as { rows: unknown[] }).rows[0]).toMatchObject({
      tool: 'echo',
      decision: 'approved',
      decidedBy: 'user',
      outcome: 'ok',
      risk: 'low',
    })

    // Deny.
    const from2 = conn.messages.length
    const call2 = client.callTool({ name: 'echo', arguments: { message: 'again' } })
    const req2 = (await conn.event('approval.requested', from2)) as { id: string }
    await conn.request('approvals.decide', { id: req2.id, answer: 'deny' })
    const denied = await call2
    expect(denied.isError).toBe(true)
    expect(textOf(denied)).toMatch(/denied/)
  })

  it('--no-ui keeps MCP over HTTP without the web UI; --no-http binds no port', async () => {
    env = new Env()
    const serve = async (flags: string[], check: (out: string) => Promise<void>) => {
      const proc = spawn(process.execPath, [CLI, 'serve', '--background', ...flags], {
        env: env!.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()))
      try {
        await waitFor(
          () => out.includes('Airlock gateway running') || proc.exitCode !== null,
          10_000,
          'the gateway',
        )
        await check(out)
      } finally {
        proc.kill('SIGTERM')
        await new Promise((r) => proc.once('exit', r))
      }
    }
    await serve(['--no-ui', '--port', '0'], async (out) => {
      expect(out).toContain('web UI:      off (--no-ui)')
      const base = /MCP over HTTP: (http:\/\/127\.0\.0\.1:\d+\/mcp\/)/.exec(out)?.[1]
      expect(base).toBeDefined()
      const page = await fetch(new URL('/', base))
      expect(page.status).toBe(404)
      expect(await page.text()).toContain('the web UI is off')
      // The MCP endpoint answers (here: no token, so 401), where the UI does not.
      const mcp = await fetch(`${base}everything`, { method: 'POST', body: '{}' })
      expect(mcp.status).toBe(401)
      expect(fs.existsSync(path.join(env!.home, 'ui-token'))).toBe(false)
    })
    await serve(['--no-http'], async (out) => {
      expect(out).toContain('web UI:      off (--no-http)')
      expect(out).toContain('MCP over HTTP: off (--no-http)')
      expect(fs.existsSync(path.join(env!.home, 'http-port'))).toBe(false)
    })
    const r = await env.run(['serve', '--port', 'abc'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--port abc: expected a TCP port/)
  })
})
