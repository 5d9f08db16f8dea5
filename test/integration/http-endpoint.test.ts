/**
 * The loopback Streamable HTTP endpoint of `airlock serve` (`/mcp/<server>`): the SDK's
 * StreamableHTTPClientTransport through the same policy as the shim path (deny, hide, an
 * approval answered by a scripted approver, audit records), and the refusals — no token, a
 * wrong token, a foreign Origin, a rebinding Host, a preflight, a body over the cap — made
 * with raw `http.request` so that every header can be set freely. DELETE ends the server.
 */
import { execFile } from 'node:child_process'
import http from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  CreateMessageRequestSchema,
  ToolListChangedNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js'
import {
  alive,
  CLI,
  descendants,
  Env,
  everything,
  sleep,
  textOf,
  waitFor,
} from '../helpers/harness'

let env: Env
let clients: Client[]

beforeEach(() => {
  env = new Env()
  clients = []
})

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  await env.cleanup()
})

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw-http', version: '1' },
  },
}

/** everything with echo denied, get-env hidden, get-sum behind an approval; the gateway on a free port. */
async function start(
  settings: Record<string, unknown> = {},
): Promise<{ base: string; port: number; token: string }> {
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    hide: ['get-env'],
    tools: {
      echo: { rules: [{ name: 'no echo', action: 'deny', on_deny: 'echo is not allowed here' }] },
      'get-sum': { rules: [{ name: 'ask before adding', action: 'require_approval' }] },
    },
  })
  env.writeConfig(
    [everything('everything', { policy }), everything('off', { enabled: false })],
    settings,
  )
  await env.startGateway({ port: 0 })
  const base = env.mcpBase
  if (!base) throw new Error(`the gateway printed no MCP endpoint:\n${env.gatewayOutput}`)
  return { base, port: Number(new URL(base).port), token: env.httpToken() }
}

async function connect(
  url: string,
  token: string,
  name = 'http-agent',
  setup?: (c: Client) => void,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  })
  const client = new Client(
    { name, version: '1.0.0' },
    { capabilities: setup ? { sampling: {} } : {} },
  )
  setup?.(client)
  clients.push(client)
  await client.connect(transport)
  return { client, transport }
}

interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One raw request to 127.0.0.1:port (headers exactly as given; Host included). */
function raw(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'POST',
        path: opts.path,
        headers: opts.headers,
        setHost: !opts.headers?.Host,
      },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    // A body refused early may meet a closed socket: the response already tells what happened.
    req.on('error', (err) => reject(err))
    req.end(opts.body)
  })
}

function mcpHeaders(
  token: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
    ...extra,
  }
}

function sessionPids(): number[] {
  const gw = env.gateway?.pid
  return gw ? descendants(gw) : []
}

describe('through policy', () => {
  it('allows, denies, hides and audits like the shim path', async () => {
    const { base, token } = await start()
    const { client } = await connect(`${base}everything`, token)

    const { tools } = await client.listTools()
    const names = tools.map((t) => t.name)
    expect(names).toContain('echo')
    expect(names).toContain('get-sum')
    expect(names).not.toContain('get-env')

    // Denied: a tool error result with the policy's reason; the server never sees it.
    const denied = await client.callTool({ name: 'echo', arguments: { message: 'hi' } })
    expect(denied.isError).toBe(true)
    expect(textOf(denied)).toBe('[Airlock policy] echo is not allowed here')

    // Hidden: answered exactly like a tool that does not exist.
    const hidden = await client.callTool({ name: 'get-env', arguments: {} })
    const missing = await client.callTool({ name: 'no-such-tool', arguments: {} })
    expect(hidden.isError).toBe(true)
    expect(textOf(hidden)).toBe('MCP error -32602: Tool get-env not found')
    expect(textOf(missing)).toBe('MCP error -32602: Tool no-such-tool not found')

    await waitFor(
      () => env.auditRecords().some((r) => r.tool === 'get-env'),
      5000,
      'the audit record of the hidden call',
    )
    const recs = env.auditRecords()
    expect(recs.find((r) => r.tool === 'echo' && r.kind === 'call')).toMatchObject({
      decision: 'deny',
      client: 'http-agent',
      server: 'everything',
      rule: 'no echo',
    })
    expect(recs.find((r) => r.tool === 'get-env' && r.kind === 'call')).toMatchObject({
      decision: 'hidden',
      client: 'http-agent',
    })
  })

  it('an allowed call reaches the server and both records are written', async () => {
    const { base, token } = await start()
    const { client } = await connect(`${base}everything`, token, 'http-allowed')
    const res = await client.callTool({ name: 'get-tiny-image', arguments: {} })
    expect(res.isError).toBeFalsy()
    await waitFor(
      () => env.auditRecords().some((r) => r.kind === 'outcome' && r.tool === 'get-tiny-image'),
      5000,
      'the outcome record',
    )
    const recs = env.auditRecords().filter((r) => r.tool === 'get-tiny-image')
    expect(recs.map((r) => r.kind)).toEqual(['call', 'outcome'])
    expect(recs[0]).toMatchObject({ decision: 'allow', client: 'http-allowed' })
    expect(recs[1]).toMatchObject({ outcome: 'ok' })
  })

  it('a call behind an approval waits for the person, then goes through', async () => {
    const { base, token } = await start()
    const approver = await env.approver(() => 'allow_once')
    const { client } = await connect(`${base}everything`, token, 'http-approval')
    const tool = 'get-sum'
    const res = await client.callTool({ name: tool, arguments: { a: 2, b: 3 } })
    expect(res.isError).toBeFalsy()
    expect(textOf(res)).toContain('5')
    expect(approver.requested).toHaveLength(1)
    expect(approver.requested[0]).toMatchObject({
      server: 'everything',
      tool,
      client: 'http-approval',
      rule: 'ask before adding',
    })
    await waitFor(
      () => env.auditRecords().some((r) => r.kind === 'outcome' && r.tool === tool),
      5000,
      'the outcome record',
    )
    expect(env.auditRecords().find((r) => r.kind === 'call' && r.tool === tool)).toMatchObject({
      decision: 'approved',
      decidedBy: 'user',
    })
  })

  it('a denial by the person comes back as a tool error', async () => {
    const { base, token } = await start()
    const approver = await env.approver(() => 'deny')
    const { client } = await connect(`${base}everything`, token)
    const tool = 'get-sum'
    const res = await client.callTool({ name: tool, arguments: { a: 1, b: 1 } })
    expect(res.isError).toBe(true)
    expect(textOf(res)).toMatch(
      new RegExp(
        `^\\[Airlock policy\\] the user denied "${tool}" on "everything" \\(approval was needed: .+\\)\\.$`,
      ),
    )
    expect(approver.requested).toHaveLength(1)
  })

  it('each HTTP session is a gateway session; DELETE ends it and its server process', async () => {
    const { base, token } = await start()
    const control = await env.control()
    const before = sessionPids()
    const { client, transport } = await connect(`${base}everything`, token, 'http-lifecycle')
    await client.listTools()
    const status = await control.api.status.get()
    expect(status.sessions).toEqual([
      expect.objectContaining({ server: 'everything', client: 'http-lifecycle' }),
    ])
    const spawned = sessionPids().filter((p) => !before.includes(p))
    expect(spawned.length).toBeGreaterThan(0)

    await transport.terminateSession()
    await waitFor(() => spawned.every((p) => !alive(p)), 10_000, 'the server process tree to end')
    await waitFor(
      async () => (await control.api.status.get()).sessions.length === 0,
      5000,
      'the session to end',
    )
  })
})

describe('sessions clients never close', () => {
  interface Info {
    id: string
    server: string
    client: string
    transport: string
    startedAt: number
    idleMs?: number
  }
  const httpSessions = async (control: Awaited<ReturnType<Env['control']>>): Promise<Info[]> =>
    (await control.api.status.get()).sessions.filter((x) => x.transport === 'http')

  it('at the cap per server, a new session closes the longest-idle one with its server process', async () => {
    const { base, token } = await start({ http: { maxSessionsPerServer: 2 } })
    const control = await env.control()
    const pidsOf: number[][] = []
    const conns = []
    for (const name of ['first', 'second']) {
      const before = sessionPids()
      const c = await connect(`${base}everything`, token, name)
      await c.client.listTools()
      pidsOf.push(sessionPids().filter((p) => !before.includes(p)))
      conns.push(c)
    }
    // "second" is used again: "first" is now the longest idle.
    await conns[1]!.client.listTools()
    expect((await httpSessions(control)).map((x) => x.client).sort()).toEqual(['first', 'second'])
    const third = await connect(`${base}everything`, token, 'third')
    await third.client.listTools()
    await waitFor(
      () => pidsOf[0]!.every((p) => !alive(p)),
      10_000,
      "the first session's server to end",
    )
    expect(pidsOf[1]!.every((p) => alive(p))).toBe(true)
    const left = await httpSessions(control)
    expect(left.map((x) => x.client).sort()).toEqual(['second', 'third'])
    for (const x of left) expect(x.idleMs).toBeTypeOf('number')
    // The closed session is gone for its client: a clear 404, not a hang.
    await expect(conns[0]!.client.listTools()).rejects.toThrow(/Session not found/)
    expect(env.gatewayOutput).toMatch(
      /the most allowed \(settings\.http\.maxSessionsPerServer = 2\)/,
    )
  })

  it('an idle session is closed after settings.http.sessionIdleMinutes, with its server process', async () => {
    // 0.01 min = 600 ms, so that the test sees it happen.
    const { base, token } = await start({ http: { sessionIdleMinutes: 0.01 } })
    const control = await env.control()
    const before = sessionPids()
    const { client } = await connect(`${base}everything`, token, 'idler')
    await client.listTools()
    const spawned = sessionPids().filter((p) => !before.includes(p))
    expect(spawned.length).toBeGreaterThan(0)
    await waitFor(() => spawned.every((p) => !alive(p)), 10_000, 'the idle session to end')
    await waitFor(async () => (await httpSessions(control)).length === 0, 5000, 'status to drop it')
    expect(env.gatewayOutput).toMatch(/MCP HTTP session of "everything" ended \(idle for 1 s\)/)
  })

  it('airlock status lists HTTP sessions with their age and idle time', async () => {
    const { base, token } = await start()
    const { client } = await connect(`${base}everything`, token, 'listed-agent')
    await client.listTools()
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [CLI, 'status'], { env: env.env }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      )
    })
    expect(out).toMatch(
      /HTTP sessions: 1\n {4}everything {2}client listed-agent {2}age \d+s {2}idle (\d+s|active)/,
    )
    expect(out).toMatch(/ {2}sessions: 0\n/)
  })
})

describe('server → client traffic', () => {
  it('progress notifications reach the request that asked for them', async () => {
    const { base, token } = await start()
    const { client } = await connect(`${base}everything`, token)
    const progress: Progress[] = []
    const res = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      {
        onprogress: (p) => void progress.push(p),
      },
    )
    expect(textOf(res)).toBe('Long running operation completed. Duration: 0.3 seconds, Steps: 3.')
    expect(progress.map((p) => p.progress).slice(0, 2)).toEqual([1, 2])
  })

  it('a plain call is answered as JSON; a call whose progress comes first, as an SSE stream', async () => {
    const { port, token } = await start()
    const init = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token),
      body: JSON.stringify(INIT),
    })
    expect(init.status).toBe(200)
    const sid = init.headers['mcp-session-id'] as string
    const headers = mcpHeaders(token, {
      'Mcp-Session-Id': sid,
      'Mcp-Protocol-Version': '2025-06-18',
    })
    const initialized = await raw(port, {
      path: '/mcp/everything',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
    expect([initialized.status, initialized.body]).toEqual([202, ''])
    // The server announces its tools after initialize (list_changed, on this request's stream).
    const list = await raw(port, {
      path: '/mcp/everything',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    })
    expect(list.body).toContain('"id":9')

    const sum = await raw(port, {
      path: '/mcp/everything',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'get-sum', arguments: { a: 1, b: 2 } },
      }),
    })
    // get-sum needs an approval and there is no approver: denied, as JSON.
    expect(sum.status).toBe(200)
    expect(sum.headers['content-type']).toBe('application/json')
    expect(sum.headers['mcp-session-id']).toBe(sid)
    expect(JSON.parse(sum.body)).toMatchObject({ jsonrpc: '2.0', id: 2, result: { isError: true } })

    const long = await raw(port, {
      path: '/mcp/everything',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: {
          name: 'trigger-long-running-operation',
          arguments: { duration: 0.2, steps: 2 },
          _meta: { progressToken: 'p3' },
        },
      }),
    })
    expect(long.status).toBe(200)
    expect(long.headers['content-type']).toBe('text/event-stream')
    const events = long.body
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(/^data: (.*)$/m.exec(e)?.[1] ?? 'null') as Record<string, unknown>)
    expect(events.map((e) => e.method ?? `response ${String(e.id)}`)).toEqual([
      'notifications/progress',
      'notifications/progress',
      'response 3',
    ])

    // What is not one plain message goes to the SDK transport, which judges it as before.
    const noAccept = await raw(port, {
      path: '/mcp/everything',
      headers: { ...headers, Accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }),
    })
    expect(noAccept.status).toBe(406)
    const badVersion = await raw(port, {
      path: '/mcp/everything',
      headers: { ...headers, 'Mcp-Protocol-Version': '1999-01-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }),
    })
    expect(badVersion.status).toBe(400)
    const notRpc = await raw(port, {
      path: '/mcp/everything',
      headers,
      body: JSON.stringify({ jsonrpc: '1.0', id: 6, method: 'tools/list' }),
    })
    expect(notRpc.status).toBe(400)
    const batch = await raw(port, {
      path: '/mcp/everything',
      headers,
      body: JSON.stringify([{ jsonrpc: '2.0', id: 7, method: 'tools/list' }]),
    })
    expect(batch.status).toBe(200)
    expect(batch.body).toContain('"id":7')
  })

  it('sampling: the server asks the HTTP client during a tool call and gets the answer', async () => {
    const { base, token } = await start()
    const asked: string[] = []
    const { client } = await connect(`${base}everything`, token, 'http-sampling', (c) =>
      c.setRequestHandler(CreateMessageRequestSchema, (req) => {
        asked.push(JSON.stringify(req.params.messages))
        return {
          role: 'assistant',
          model: 'test-model-9',
          content: { type: 'text', text: 'sampled over HTTP' },
        }
      }),
    )
    const res = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hello over http', maxTokens: 10 },
    })
    expect(asked).toHaveLength(1)
    expect(asked[0]).toContain('hello over http')
    expect(textOf(res)).toContain('sampled over HTTP')
  })

  it('hiding a tool tells the connected HTTP client that the list changed', async () => {
    const { base, token } = await start()
    let changed = 0
    const { client } = await connect(`${base}everything`, token)
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++)
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('get-tiny-image')
    // The server announces its own list once it is set up: count from here.
    await sleep(300)
    const before = changed
    env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      hide: ['get-env', 'get-tiny-image'],
    })
    await waitFor(() => changed > before, 10_000, 'notifications/tools/list_changed')
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('get-tiny-image')
  })
})

describe('refusals', () => {
  it('no token and a wrong token: 401, and no session starts', async () => {
    const { port, token } = await start()
    const none = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(undefined),
      body: JSON.stringify(INIT),
    })
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/)
    const wrong = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders('0'.repeat(64)),
      body: JSON.stringify(INIT),
    })
    expect(wrong.status).toBe(401)
    const basic = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(undefined, { Authorization: `Basic ${token}` }),
      body: JSON.stringify(INIT),
    })
    expect(basic.status).toBe(401)
    const control = await env.control()
    expect((await control.api.status.get()).sessions).toEqual([])
  })

  it('the SDK client with a wrong token cannot connect', async () => {
    const { base } = await start()
    await expect(connect(`${base}everything`, 'f'.repeat(64))).rejects.toThrow()
  })

  it('a foreign Origin: 403; no CORS headers; preflights refused', async () => {
    const { port, token } = await start()
    const foreign = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token, { Origin: 'https://evil.example' }),
      body: JSON.stringify(INIT),
    })
    expect(foreign.status).toBe(403)
    const preflight = await raw(port, {
      method: 'OPTIONS',
      path: '/mcp/everything',
      headers: {
        Origin: `http://127.0.0.1:${port}`,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    })
    expect(preflight.status).toBe(405)
    const ok = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token),
      body: JSON.stringify(INIT),
    })
    expect(ok.status).toBe(200)
    for (const r of [foreign, preflight, ok]) {
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
    }
    const id = ok.headers['mcp-session-id']
    expect(typeof id).toBe('string')
    await raw(port, {
      method: 'DELETE',
      path: '/mcp/everything',
      headers: mcpHeaders(token, { 'Mcp-Session-Id': String(id) }),
    })
  })

  it('a rebinding Host header: 421, even with the right token', async () => {
    const { port, token } = await start()
    const rebound = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token, { Host: `attacker.example:${port}` }),
      body: JSON.stringify(INIT),
    })
    expect(rebound.status).toBe(421)
    const otherPort = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token, { Host: `127.0.0.1:${port + 1}` }),
      body: JSON.stringify(INIT),
    })
    expect(otherPort.status).toBe(421)
  })

  it('a body over the cap: 413', async () => {
    const { port, token } = await start()
    const big = Buffer.alloc(9 * 1024 * 1024, 0x20)
    const res = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token),
      body: big,
    }).catch((err: Error) => ({ status: -1, headers: {}, body: err.message }))
    expect(res.status).toBe(413)
    expect(res.body).toContain('Payload Too Large')
    // Without a Content-Length (chunked), the cap is found while reading; the answer still arrives.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/mcp/everything',
          headers: mcpHeaders(token),
        },
        (r) => {
          let body = ''
          r.on('data', (c: Buffer) => (body += c.toString()))
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      const piece = Buffer.alloc(1024 * 1024, 0x20)
      for (let i = 0; i < 9; i++) req.write(piece)
      req.end()
    })
    expect(chunked.status).toBe(413)
    expect(chunked.body).toContain('Payload Too Large')
  })

  it('an unknown server: 404 naming it; a disabled one: 403; a stale session: 404', async () => {
    const { port, token } = await start()
    const unknown = await raw(port, {
      path: '/mcp/nope',
      headers: mcpHeaders(token),
      body: JSON.stringify(INIT),
    })
    expect(unknown.status).toBe(404)
    expect((JSON.parse(unknown.body) as { error: { message: string } }).error.message).toContain(
      '"nope"',
    )
    const disabled = await raw(port, {
      path: '/mcp/off',
      headers: mcpHeaders(token),
      body: JSON.stringify(INIT),
    })
    expect(disabled.status).toBe(403)
    expect(disabled.body).toContain('disabled')
    const stale = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token, { 'Mcp-Session-Id': 'not-a-session' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    })
    expect(stale.status).toBe(404)
    const noSession = await raw(port, {
      path: '/mcp/everything',
      headers: mcpHeaders(token),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    })
    expect(noSession.status).toBe(400)
  })
})
