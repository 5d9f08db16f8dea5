/**
 * The MCP HTTP endpoint on its own, with a scripted gateway session in place of a server: the
 * path and bearer predicates; a session per initialize that the SDK client can use; a session
 * with nothing in flight ends after the idle timeout; a server request with no stream to carry
 * it is answered with an error so that the server does not wait forever; close ends them all.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { SessionRefusedError } from '../../src/gateway/gateway'
import {
  bearerMatches,
  createMcpHttpEndpoint,
  mcpServerFromPath,
  type McpHttpEndpoint,
} from '../../src/gateway/http/mcp-http'
import type { ClientLink } from '../../src/gateway/proxy/session'

const TOKEN = 'c'.repeat(64)

describe('predicates', () => {
  it('mcpServerFromPath takes one decoded segment after /mcp/', () => {
    expect(mcpServerFromPath('/mcp/github')).toBe('github')
    expect(mcpServerFromPath('/mcp/a%20b/')).toBe('a b')
    expect(mcpServerFromPath('/mcp/')).toBeUndefined()
    expect(mcpServerFromPath('/mcp/a/b')).toBeUndefined()
    expect(mcpServerFromPath('/mcp/%E0%A4%A')).toBeUndefined()
    expect(mcpServerFromPath('/api')).toBeUndefined()
  })

  it('bearerMatches wants exactly "Bearer <token>"', () => {
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN}`)).toBe(true)
    expect(bearerMatches(TOKEN, `bearer ${TOKEN}`)).toBe(true)
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN}x`)).toBe(false)
    expect(bearerMatches(TOKEN, `Basic ${TOKEN}`)).toBe(false)
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false)
    expect(bearerMatches(TOKEN, undefined)).toBe(false)
    expect(bearerMatches(TOKEN, 'Bearer ')).toBe(false)
  })
})

interface Fake {
  endpoint: McpHttpEndpoint
  url: string
  opened: string[]
  closed: string[]
  /** Lines the fake server got from the client, per session. */
  received: string[]
  links: ClientLink[]
  server: http.Server
}

let fakes: Fake[] = []
let clients: Client[] = []

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  for (const f of fakes) {
    await f.endpoint.close()
    f.server.closeAllConnections()
    await new Promise((r) => f.server.close(r))
  }
  fakes = []
  clients = []
})

/** An endpoint whose sessions answer initialize and tools/list themselves. */
async function fake(idleTimeoutMs?: number): Promise<Fake> {
  const f = { opened: [], closed: [], received: [], links: [] } as unknown as Fake
  f.endpoint = createMcpHttpEndpoint({
    token: TOKEN,
    ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
    openSession: (server, link) => {
      if (server !== 'fake')
        throw new SessionRefusedError(`no server named "${server}"`, 'NO_SERVER')
      f.opened.push(server)
      f.links.push(link)
      const answer = (m: unknown): void => void link.write([JSON.stringify(m), '\n'])
      return {
        clientData: (chunk) => {
          for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
            f.received.push(line)
            const msg = JSON.parse(line) as {
              id?: number
              method?: string
              params?: { protocolVersion?: string }
            }
            if (msg.method === 'initialize')
              answer({
                jsonrpc: '2.0',
                id: msg.id,
                result: {
                  protocolVersion: msg.params?.protocolVersion,
                  capabilities: { tools: {} },
                  serverInfo: { name: 'fake', version: '1' },
                },
              })
            else if (msg.method === 'tools/list')
              answer({
                jsonrpc: '2.0',
                id: msg.id,
                result: { tools: [{ name: 't', inputSchema: { type: 'object' } }] },
                extra: 'dropped',
              })
          }
        },
        clientClosed: async () => {
          f.closed.push(server)
        },
      }
    },
  })
  f.server = http.createServer((req, res) =>
    f.endpoint.handle(req, res, mcpServerFromPath(req.url ?? '') ?? ''),
  )
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r))
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}/mcp/`
  fakes.push(f)
  return f
}

async function connect(
  f: Fake,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${f.url}fake`), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
  })
  const client = new Client({ name: 'unit', version: '1' }, { capabilities: {} })
  clients.push(client)
  await client.connect(transport)
  return { client, transport }
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('sessions', () => {
  it('one gateway session per initialize; responses come back in the shape the SDK expects', async () => {
    const f = await fake()
    const { client } = await connect(f)
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['t'])
    expect(f.opened).toEqual(['fake'])
    expect(f.endpoint.sessions()).toBe(1)
    expect(f.received.map((l) => (JSON.parse(l) as { method?: string }).method)).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/list',
    ])
    await connect(f)
    expect(f.endpoint.sessions()).toBe(2)
  })

  it('a session with nothing in flight ends after the idle timeout', async () => {
    const f = await fake(200)
    const { client, transport } = await connect(f)
    // The SDK client keeps a GET stream open: an open stream is not idle. Close it to go idle.
    await client.listTools()
    expect(f.closed).toEqual([])
    await transport.close()
    await until(() => f.closed.length === 1)
    expect(f.endpoint.sessions()).toBe(0)
  })

  it('a server request with no stream to carry it is answered with an error to the server', async () => {
    const f = await fake()
    const id = await (async () => {
      const res = await fetch(`${f.url}fake`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${TOKEN}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'raw', version: '1' },
          },
        }),
      })
      await res.text()
      return res.headers.get('mcp-session-id')
    })()
    expect(id).toBeTruthy()
    const link = f.links[0]
    if (!link) throw new Error('no session')
    link.write([JSON.stringify({ jsonrpc: '2.0', id: 'srv-1', method: 'roots/list' }) + '\n'])
    await until(() => f.received.some((l) => l.includes('srv-1')))
    const answer = JSON.parse(f.received.find((l) => l.includes('srv-1')) ?? '{}') as {
      error?: { message: string }
    }
    expect(answer.error?.message).toContain('no open stream')
  })

  it('an unknown server is refused with 404 before anything starts; close ends every session', async () => {
    const f = await fake()
    const res = await fetch(`${f.url}other`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      '"other"',
    )
    await connect(f)
    await connect(f)
    await f.endpoint.close()
    expect(f.closed).toEqual(['fake', 'fake'])
    expect(f.endpoint.sessions()).toBe(0)
  })
})
