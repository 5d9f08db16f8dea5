/**
 * URL entries in the layouts the fixtures do not cover: Continue's URL as the first key of a list
 * item and a flow map, with requestOptions; Codex's inline table, an `http_headers` sub-table and
 * `bearer_token_env_var`. Each is read with its headers, wrapped to run the shim (URL and headers
 * gone from the entry) and restored byte for byte; a URL the client fills in is left alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type {
  ClientAdapter,
  ClientServerEntry,
  ConfigLocation,
} from '../../../src/clients/adapters/adapter'
import { codex } from '../../../src/clients/adapters/codex'
import { continueDev } from '../../../src/clients/adapters/continue'
import { applyWrap, planWrap, urlProblem } from '../../../src/clients/protect'
import path from 'node:path'
import { sandbox, SHIM, type Sandbox } from './helpers'

const LOC = (client: string): ConfigLocation => ({ client, file: '/x/config', scope: 'user' })

/** Wraps every entry of `text`, checks each runs the shim, and restores; returns the wrapped text. */
function roundTrip(adapter: ClientAdapter, text: string): string {
  const loc = LOC(adapter.id)
  const entries = adapter.read(text, loc)
  const targets = entries.map((entry) => ({ entry, server: entry.name }))
  const wrapped = adapter.wrap(text, targets, SHIM, loc)
  const after = adapter.read(wrapped, loc)
  for (const e of after) {
    expect(e).toMatchObject({ transport: 'stdio', wrapped: true, wrappedServer: e.name })
    expect(e.args).toEqual([SHIM.script, 'connect', e.name])
  }
  const records = targets.map(({ entry, server }) => {
    const now = after.find((x) => x.name === entry.name) as ClientServerEntry
    return {
      key: entry.key,
      name: entry.name,
      server,
      original: text.slice(entry.range.start, entry.range.end),
      wrapped: wrapped.slice(now.range.start, now.range.end),
    }
  })
  expect(adapter.restore(wrapped, records, loc).text).toBe(text)
  return wrapped
}

describe('Continue', () => {
  it('a URL as the first key of a list item, a flow map, and requestOptions.headers', () => {
    const text = `mcpServers:
  - url: https://x.example/mcp
    name: X
    type: sse
    requestOptions:
      headers:
        X-Key: abc
      timeout: 5
  - { name: Y, type: streamable-http, url: "https://y.example/mcp" }
`
    const entries = continueDev.read(text, LOC('continue'))
    expect(entries.map((e) => [e.name, e.transport, e.url, e.headers])).toEqual([
      ['X', 'sse', 'https://x.example/mcp', { 'X-Key': 'abc' }],
      ['Y', 'http', 'https://y.example/mcp', undefined],
    ])
    expect(entries[0]?.notes).toEqual([
      'its requestOptions timeout are not carried over: Airlock reaches the server with its own settings',
    ])
    const wrapped = roundTrip(continueDev, text)
    expect(wrapped).not.toContain('https://')
    expect(wrapped).not.toContain('requestOptions')
    expect(wrapped).toContain('  - command: "/opt/node/bin/node"\n')
    expect(wrapped).toContain('{ name: Y, type: stdio, command: "/opt/node/bin/node", args: [')
  })
})

describe('Codex', () => {
  it('an inline table, an http_headers sub-table and bearer_token_env_var', () => {
    const text = `mcp_servers.a = { url = "https://a.example/mcp", http_headers = { "X-A" = "1" } }

[mcp_servers.b]
url = "https://b.example/mcp"
enabled = true

[mcp_servers.b.http_headers]
X-B = "2"

[mcp_servers.c]
url = "https://c.example/mcp" # remote
bearer_token_env_var = "C_TOKEN"
`
    expect(codex.read(text, LOC('codex')).map((e) => [e.name, e.url, e.headers])).toEqual([
      ['a', 'https://a.example/mcp', { 'X-A': '1' }],
      ['b', 'https://b.example/mcp', { 'X-B': '2' }],
      ['c', 'https://c.example/mcp', { Authorization: 'Bearer ${C_TOKEN}' }],
    ])
    const wrapped = roundTrip(codex, text)
    expect(wrapped).not.toMatch(/url|http_headers|bearer_token_env_var/)
    expect(wrapped).toContain('enabled = true')
    expect(wrapped).toContain('command = "/opt/node/bin/node" # remote')
  })
})

describe('a URL the client fills in', () => {
  let box: Sandbox
  beforeEach(() => {
    box = sandbox()
  })
  afterEach(() => box.cleanup())

  it('is left alone by a plain wrap, with the reason; a real URL beside it is wrapped', () => {
    box.put(
      'home/.cursor/mcp.json',
      JSON.stringify({
        mcpServers: {
          docs: { url: '${DOCS_URL}/mcp' },
          real: { url: 'https://real.example/mcp', headers: { 'X-Api-Key': 'k-1' } },
        },
      }),
    )
    const plan = planWrap(box.ctx, 'cursor', { shim: SHIM, existing: [] })
    expect(plan.errors).toEqual([])
    expect(plan.files[0]?.targets.map((t) => t.entry.name)).toEqual(['real'])
    expect(plan.imports[0]?.server).toMatchObject({
      name: 'real',
      url: 'https://real.example/mcp',
      secretHeaders: ['X-Api-Key'],
    })
    expect(plan.imports[0]?.server.headers).toBeUndefined()
    expect(plan.imports[0]?.secrets).toEqual({ 'header:X-Api-Key': 'k-1' })
    expect(plan.skipped.map((s) => [s.name, s.reason])).toEqual([
      [
        'docs',
        'HTTP endpoint: not protected; its URL "${DOCS_URL}/mcp" is not an http(s) URL Airlock can reach as written (the client fills it in); add the server with "airlock servers add <name> --url <URL>" and point the entry at "airlock connect <name>"',
      ],
    ])
    const docs = plan.client
      .read(box.ctx.fs.read(plan.files[0]!.location.file)!.toString(), plan.files[0]!.location)
      .find((e) => e.name === 'docs')!
    expect(urlProblem(docs)).toContain('is not an http(s) URL')
  })

  it('the same URL with another token is another server; with the same token, the same one', () => {
    const entry = (token: string) => ({
      url: 'https://team.example/mcp',
      headers: { Authorization: `Bearer ${token}` },
    })
    box.put(
      'home/.cursor/mcp.json',
      JSON.stringify({ mcpServers: { team: entry('alice'), again: entry('alice') } }),
    )
    const configFile = path.join(box.airlock, 'config.json')
    const first = planWrap(box.ctx, 'cursor', { shim: SHIM, existing: [] })
    expect(first.imports.map((i) => [i.entry.name, i.server.name, i.reuse])).toEqual([
      ['team', 'team', false],
      ['again', 'team', true],
    ])
    expect(applyWrap(box.ctx, first, configFile).errors).toEqual([])
    expect(box.secrets.get('team\u0000header:Authorization')).toBe('Bearer alice')

    // Another client with the same URL: Bob's token is not routed through Alice's server.
    box.put(
      'home/.codeium/windsurf/mcp_config.json',
      JSON.stringify({ mcpServers: { team: entry('bob'), mine: entry('alice') } }),
    )
    const existing = [first.imports[0]!.server]
    const second = planWrap(box.ctx, 'windsurf', { shim: SHIM, existing })
    expect(second.imports.map((i) => [i.entry.name, i.server.name, i.reuse])).toEqual([
      ['team', 'windsurf-team', false],
      ['mine', 'team', true],
    ])
    expect(applyWrap(box.ctx, second, configFile).errors).toEqual([])
    expect(box.secrets.get('windsurf-team\u0000header:Authorization')).toBe('Bearer bob')
    expect(box.secrets.get('team\u0000header:Authorization')).toBe('Bearer alice')
  })
})
