/**
 * Wrapping onto the gateway's HTTP endpoint (`clients wrap <client> --http`): for the clients
 * that speak Streamable HTTP with headers (VS Code, Cursor, Windsurf, Claude Code, Gemini CLI)
 * each stdio entry gets the URL, the Authorization header and the `type` its client needs, keeps
 * every other key, reads back as protected, and restores byte for byte; the other clients
 * refuse with a message that says what to do. URL entries elsewhere stay "not protected".
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClientServerEntry, HttpEndpoint } from '../../../src/clients/adapters/adapter'
import { ClientConfigError } from '../../../src/clients/errors'
import {
  applyRestore,
  applyWrap,
  planRestore,
  planWrap,
  scanClients,
} from '../../../src/clients/protect'
import { httpServer } from '../../../src/clients/shim-command'
import { CASES, fixture, locationOf, sandbox, SHIM, type Sandbox } from './helpers'

const HTTP: HttpEndpoint = { base: 'http://127.0.0.1:4310/mcp/', token: 'ab'.repeat(32) }
const AUTH = `Bearer ${HTTP.token}`
/** Clients that resolve `${input:…}` in headers get the reference, not the token. */
const REF_CLIENTS = ['vscode']
const authOf = (id: string): string =>
  REF_CLIENTS.includes(id) ? 'Bearer ${input:airlock-token}' : AUTH
/** A parsed document without the airlock-token input a wrap added. */
function withoutTokenInput(doc: unknown): unknown {
  const d = doc as { inputs?: { id?: string }[] }
  if (!Array.isArray(d.inputs)) return doc
  const inputs = d.inputs.filter((i) => i.id !== 'airlock-token')
  const rest: Record<string, unknown> = { ...d }
  delete rest.inputs
  return inputs.length ? { ...rest, inputs } : rest
}

/** How each HTTP-capable client spells an HTTP entry. */
const SPELLING: Record<string, { urlKey: string; type?: string }> = {
  vscode: { urlKey: 'url', type: 'http' },
  cursor: { urlKey: 'url' },
  windsurf: { urlKey: 'serverUrl' },
  'claude-code': { urlKey: 'url', type: 'http' },
  'gemini-cli': { urlKey: 'httpUrl' },
}

let box: Sandbox

beforeEach(() => {
  box = sandbox()
})
afterEach(() => box.cleanup())

const serverName = (e: ClientServerEntry): string => e.name.replace(/[^A-Za-z0-9_.-]/g, '-')

const httpCases = CASES.filter((c) => c.adapter.supportsHttp)
const otherCases = CASES.filter((c) => !c.adapter.supportsHttp)

it('the HTTP-capable clients are exactly those that take a URL with headers', () => {
  expect([...new Set(httpCases.map((c) => c.adapter.id))].sort()).toEqual(
    Object.keys(SPELLING).sort(),
  )
})

describe.each(httpCases.map((c) => [`${c.adapter.displayName} (${c.fixture})`, c] as const))(
  '%s over HTTP',
  (_, c) => {
    const bytes = fixture(c.fixture)
    const text = bytes.toString('utf8')
    const spelling = SPELLING[c.adapter.id] ?? { urlKey: 'url' }

    it('points each stdio entry at /mcp/<server> with the token, keeps the rest, restores byte for byte', () => {
      const file = box.put(c.place, bytes)
      const loc = locationOf(c.adapter, box.env, file)
      const entries = c.adapter.read(text, loc)
      const targets = entries
        .filter((e) => c.stdio.includes(e.name))
        .map((entry) => ({ entry, server: serverName(entry) }))
      const wrapped = c.adapter.wrap(text, targets, SHIM, loc, HTTP)
      expect(() => c.adapter.parse(wrapped, file)).not.toThrow()
      const after = c.adapter.read(wrapped, loc)
      for (const t of targets) {
        const e = after.find((x) => x.key.join('/') === t.entry.key.join('/'))
        expect(e?.wrapped, t.entry.name).toBe(true)
        expect(e?.wrappedServer).toBe(t.server)
        expect(e?.transport).toBe('http')
        expect(e?.url).toBe(`${HTTP.base}${t.server}`)
        expect(e?.headers).toEqual({ Authorization: authOf(c.adapter.id) })
        const value = e?.value as Record<string, unknown>
        expect(value[spelling.urlKey]).toBe(`${HTTP.base}${t.server}`)
        if (spelling.type) expect(value.type).toBe(spelling.type)
        for (const k of ['command', 'args', 'env', 'cwd']) expect(value).not.toHaveProperty(k)
        // Every other key of the entry came through.
        const before = t.entry.value as Record<string, unknown>
        for (const k of Object.keys(before).filter(
          (k) => !['command', 'args', 'env', 'cwd', 'type'].includes(k),
        ))
          expect(value[k], `${t.entry.name}.${k}`).toEqual(before[k])
      }
      for (const e of entries.filter((x) => !c.stdio.includes(x.name)))
        expect(wrapped).toContain(text.slice(e.range.start, e.range.end))
      for (const keep of c.keeps) expect(wrapped).toContain(keep)
      if (text.includes('\r\n')) expect(wrapped.replace(/\r\n/g, '')).not.toContain('\n')

      const records = targets.map(({ entry, server }) => {
        const now = after.find((x) => x.key.join('/') === entry.key.join('/')) as ClientServerEntry
        return {
          key: entry.key,
          name: entry.name,
          server,
          original: text.slice(entry.range.start, entry.range.end),
          wrapped: wrapped.slice(now.range.start, now.range.end),
        }
      })
      const restored = c.adapter.restore(wrapped, records, loc).text
      if (REF_CLIENTS.includes(c.adapter.id)) {
        // The input the wrap added stays (unused) when entries are spliced back; the backup
        // restore below is byte for byte.
        const inputs = (c.adapter.parse(wrapped, file) as { inputs?: { id: string }[] }).inputs
        expect(inputs?.filter((i) => i.id === 'airlock-token')).toEqual([
          expect.objectContaining({ type: 'promptString', password: true }),
        ])
        expect(withoutTokenInput(c.adapter.parse(restored, file))).toEqual(
          withoutTokenInput(c.adapter.parse(text, file)),
        )
      } else expect(restored).toBe(text)
    })

    it('plan, apply, list as protected (route http), restore from the backup byte for byte', () => {
      const file = box.put(c.place, bytes)
      fs.chmodSync(file, 0o644)
      const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [], http: HTTP })
      expect(plan.errors).toEqual([])
      // The token is written (no reference the client resolves), so the file becomes 0600; the
      // diff a person reviews masks it.
      const mine = plan.files.find((f) => f.location.file === file)
      const byRef = REF_CLIENTS.includes(c.adapter.id)
      expect(mine?.holdsToken).toBe(!byRef)
      expect(mine?.after).toContain(authOf(c.adapter.id))
      expect(mine?.after).not.toContain(byRef ? HTTP.token : '${input:')
      expect(mine?.diff).not.toContain(HTTP.token)
      if (!byRef) expect(mine?.diff).toContain('Bearer ••••abab')
      const result = applyWrap(box.ctx, plan, path.join(box.airlock, 'config.json'))
      expect(result.errors).toEqual([])
      expect(fs.statSync(file).mode & 0o777).toBe(byRef ? 0o644 : 0o600)
      const report = scanClients(box.ctx, c.adapter.id).find((r) => r.location.file === file)
      const wrappedOnes = report?.entries.filter((s) => c.stdio.includes(s.entry.name)) ?? []
      expect(wrappedOnes.map((s) => [s.protected, s.entry.transport, s.problem])).toEqual(
        c.stdio.map(() => [true, 'http', undefined]),
      )
      // A second wrap finds nothing left to do.
      const again = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [], http: HTTP })
      expect(again.files.filter((f) => f.location.file === file)).toEqual([])
      // Remote entries elsewhere stay listed as not protected.
      for (const name of c.remote) {
        const s = report?.entries.find((x) => x.entry.name === name)
        expect(s?.protected, name).toBe(false)
      }
      const restore = planRestore(box.ctx, c.adapter.id)
      expect(restore.files.map((f) => f.method)).toEqual(['backup'])
      for (const f of restore.files) expect(f.diff).not.toContain(HTTP.token)
      expect(applyRestore(box.ctx, restore).errors).toEqual([])
      expect(fs.readFileSync(file)).toEqual(bytes)
    })
  },
)

describe.each(otherCases.map((c) => [c.adapter.displayName, c] as const))('%s', (_, c) => {
  it('refuses --http with a message that says what to do, and writes nothing', () => {
    const bytes = fixture(c.fixture)
    const file = box.put(c.place, bytes)
    const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [], http: HTTP })
    expect(plan.files).toEqual([])
    expect(plan.errors).toHaveLength(1)
    expect(plan.errors[0]).toBeInstanceOf(ClientConfigError)
    expect(plan.errors[0]?.message).toContain('without --http')
    expect(plan.errors[0]?.message).toContain('vscode')
    const loc = locationOf(c.adapter, box.env, file)
    const targets = c.adapter
      .read(bytes.toString('utf8'), loc)
      .filter((e) => c.stdio.includes(e.name))
      .map((entry) => ({ entry, server: serverName(entry) }))
    expect(() => c.adapter.wrap(bytes.toString('utf8'), targets, SHIM, loc, HTTP)).toThrow(
      /without --http/,
    )
    expect(fs.readFileSync(file)).toEqual(bytes)
  })
})

describe('recognising an entry wrapped onto the endpoint', () => {
  it('needs a loopback /mcp/<server> URL and an Airlock-shaped bearer token', () => {
    expect(httpServer('http://127.0.0.1:4310/mcp/github', { Authorization: AUTH })).toBe('github')
    expect(httpServer('http://localhost:9/mcp/a%20b/', { authorization: AUTH })).toBe('a b')
    expect(httpServer('http://127.0.0.1:4310/mcp/github', {})).toBeUndefined()
    expect(
      httpServer('http://127.0.0.1:4310/mcp/github', { Authorization: 'Bearer ${TOKEN}' }),
    ).toBeUndefined()
    expect(httpServer('https://127.0.0.1:4310/mcp/github', { Authorization: AUTH })).toBeUndefined()
    expect(
      httpServer('http://example.com:4310/mcp/github', { Authorization: AUTH }),
    ).toBeUndefined()
    expect(
      httpServer('http://127.0.0.1:4310/api/mcp/github', { Authorization: AUTH }),
    ).toBeUndefined()
  })

  it('an Airlock URL for a server named "sse" is still Streamable HTTP', () => {
    const file = box.put(
      'home/.cursor/mcp.json',
      JSON.stringify({ mcpServers: { sse: { command: 'x' } } }, null, 2),
    )
    const plan = planWrap(box.ctx, 'cursor', { shim: SHIM, existing: [], http: HTTP })
    expect(applyWrap(box.ctx, plan, path.join(box.airlock, 'config.json')).errors).toEqual([])
    const entry = scanClients(box.ctx, 'cursor').find((r) => r.location.file === file)?.entries[0]
    expect(entry).toMatchObject({
      protected: true,
      entry: { transport: 'http', wrappedServer: 'sse' },
    })
  })
})

describe('VS Code: the token as ${input:airlock-token}', () => {
  const vscodeCase = httpCases.find((c) => c.adapter.id === 'vscode')!
  const wrapText = (text: string): string => {
    const file = box.put(vscodeCase.place, Buffer.from(text))
    const loc = locationOf(vscodeCase.adapter, box.env, file)
    const targets = vscodeCase.adapter
      .read(text, loc)
      .map((entry) => ({ entry, server: entry.name }))
    return vscodeCase.adapter.wrap(text, targets, SHIM, loc, HTTP)
  }
  const inputsOf = (text: string): unknown => (JSON.parse(text) as { inputs?: unknown }).inputs

  it('adds the input when the file has no inputs, or an empty list, and only once', () => {
    const bare = '{\n  "servers": {\n    "x": { "command": "node", "args": ["a.js"] }\n  }\n}\n'
    const wrapped = wrapText(bare)
    expect(inputsOf(wrapped)).toEqual([
      expect.objectContaining({ id: 'airlock-token', type: 'promptString', password: true }),
    ])
    expect(wrapped).toContain('"Authorization": "Bearer ${input:airlock-token}"')
    expect(wrapped).not.toContain(HTTP.token)
    const empty =
      '{ "inputs": [], "servers": { "x": { "command": "node" }, "y": { "command": "n" } } }'
    const twice = wrapText(empty)
    expect(inputsOf(twice)).toEqual([expect.objectContaining({ id: 'airlock-token' })])
    // Reads back as protected through the reference.
    const loc = locationOf(
      vscodeCase.adapter,
      box.env,
      box.put(vscodeCase.place, Buffer.from(twice)),
    )
    expect(vscodeCase.adapter.read(twice, loc).map((e) => [e.wrapped, e.wrappedServer])).toEqual([
      [true, 'x'],
      [true, 'y'],
    ])
  })
})
