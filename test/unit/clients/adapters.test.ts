/**
 * Every client adapter against a realistic fixture of its format (comments, trailing commas
 * where allowed, unknown keys, placeholders, CRLF, 2/4-space and tab indentation): it is
 * detected and read; a wrap parses, runs the shim for each stdio entry and keeps everything
 * else; a restore is byte-identical — from the backup, and entry by entry after an edit.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClientServerEntry } from '../../../src/clients/adapters/adapter'
import { readManifest } from '../../../src/clients/manifest'
import {
  applyRestore,
  applyWrap,
  planRestore,
  planWrap,
  scanClients,
} from '../../../src/clients/protect'
import { isSecretHeaderName } from '../../../src/shared/contract/config'
import { CASES, fixture, locationOf, plainWrapped, sandbox, SHIM, type Sandbox } from './helpers'

let box: Sandbox

beforeEach(() => {
  box = sandbox()
})
afterEach(() => box.cleanup())

const label = (c: (typeof CASES)[number]): string => `${c.adapter.displayName} (${c.fixture})`

describe.each(CASES.map((c) => [label(c), c] as const))('%s', (_, c) => {
  const bytes = fixture(c.fixture)
  const text = bytes.toString('utf8')

  function place(): string {
    return box.put(c.place, bytes)
  }

  it('is found among the client config files and read', () => {
    expect(c.adapter.detect(box.env, box.ctx.fs)).toEqual([])
    const file = place()
    expect(c.adapter.detect(box.env, box.ctx.fs).map((l) => l.file)).toEqual([file])
    const reports = scanClients(box.ctx, c.adapter.id)
    const report = reports.find((r) => r.location.file === file)
    expect(report?.error).toBeUndefined()
    const entries = report?.entries.map((s) => s.entry) ?? []
    expect(
      entries.filter((e) => e.transport === 'stdio' && !e.unsupported).map((e) => e.name),
    ).toEqual(c.stdio)
    expect(entries.filter((e) => e.transport !== 'stdio').map((e) => e.name)).toEqual(c.remote)
    expect(entries.filter((e) => e.unsupported).map((e) => e.name)).toEqual(c.unsupported ?? [])
    expect(report?.entries.every((s) => !s.protected)).toBe(true)
    // The entry text range is exactly the entry.
    for (const e of entries)
      expect(text.slice(e.range.start, e.range.end).length).toBeGreaterThan(0)
  })

  it('wraps every stdio entry to run the shim, keeps the rest, and restores byte for byte', () => {
    const file = place()
    const loc = locationOf(c.adapter, box.env, file)
    const entries = c.adapter.read(text, loc)
    const targets = entries
      .filter((e) => c.stdio.includes(e.name))
      .map((entry) => ({ entry, server: serverName(entry) }))
    const wrapped = c.adapter.wrap(text, targets, SHIM, loc)

    expect(() => c.adapter.parse(wrapped, file)).not.toThrow()
    const after = c.adapter.read(wrapped, loc)
    for (const t of targets) {
      const e = after.find((x) => x.key.join('/') === t.entry.key.join('/'))
      expect(e?.wrapped, t.entry.name).toBe(true)
      expect(e?.command).toBe(SHIM.node)
      expect(e?.args).toEqual([SHIM.script, 'connect', t.server])
      expect(e?.env).toEqual({})
      expect(e?.cwd).toBeUndefined()
    }
    // Untouched entries are the same text.
    for (const e of entries.filter((x) => !c.stdio.includes(x.name)))
      expect(wrapped).toContain(text.slice(e.range.start, e.range.end))
    for (const keep of c.keeps) expect(wrapped).toContain(keep)
    // Line endings and the indentation style of the file are kept.
    if (text.includes('\r\n')) expect(wrapped.replace(/\r\n/g, '')).not.toContain('\n')
    const indentChars = new Set([...text.matchAll(/^([ \t]+)/gm)].map((m) => (m[1] ?? '')[0]))
    const newIndentChars = new Set([...wrapped.matchAll(/^([ \t]+)/gm)].map((m) => (m[1] ?? '')[0]))
    for (const ch of newIndentChars) expect(indentChars.has(ch)).toBe(true)

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
    const back = c.adapter.restore(wrapped, records, loc)
    expect(back.text).toBe(text)
    expect(back.restored).toEqual(c.stdio)
  })

  it('sets AIRLOCK_HOME for the shim when the data directory is not the default', () => {
    const file = place()
    const loc = locationOf(c.adapter, box.env, file)
    const targets = c.adapter
      .read(text, loc)
      .filter((e) => c.stdio.includes(e.name))
      .map((entry) => ({ entry, server: serverName(entry) }))
    const wrapped = c.adapter.wrap(
      text,
      targets,
      { ...SHIM, env: { AIRLOCK_HOME: '/data/airlock home' } },
      loc,
    )
    for (const e of c.adapter.read(wrapped, loc).filter((x) => c.stdio.includes(x.name))) {
      expect(e.env).toEqual({ AIRLOCK_HOME: '/data/airlock home' })
    }
  })

  it('wraps every URL entry to run the shim (Airlock keeps its URL and headers), keeps the rest, and restores byte for byte', () => {
    const file = place()
    const loc = locationOf(c.adapter, box.env, file)
    const entries = c.adapter.read(text, loc)
    const remote = entries.filter(
      (e) => c.remote.includes(e.name) && !(c.urlSkipped ?? []).includes(e.name),
    )
    // (The project .mcp.json's one URL entry is a placeholder: a plain wrap leaves it alone.)
    if (remote.length === 0) return expect(c.urlSkipped).toEqual(c.remote)
    for (const e of remote) expect(e.headers ?? {}, e.name).toEqual(c.urlHeaders?.[e.name] ?? {})
    const targets = remote.map((entry) => ({ entry, server: serverName(entry) }))
    const wrapped = c.adapter.wrap(text, targets, SHIM, loc)
    expect(() => c.adapter.parse(wrapped, file)).not.toThrow()
    const after = c.adapter.read(wrapped, loc)
    for (const t of targets) {
      const e = after.find((x) => x.key.join('/') === t.entry.key.join('/'))
      expect(e?.transport, t.entry.name).toBe('stdio')
      expect(e?.wrapped).toBe(true)
      expect(e?.command).toBe(SHIM.node)
      expect(e?.args).toEqual([SHIM.script, 'connect', t.server])
      expect(e?.url).toBeUndefined()
      expect(e?.headers).toBeUndefined()
      // Neither the URL nor a header value is left in the entry's text.
      const entryText = wrapped.slice(e?.range.start, e?.range.end)
      expect(entryText).not.toContain(t.entry.url)
      for (const v of Object.values(t.entry.headers ?? {})) expect(entryText).not.toContain(v)
    }
    for (const e of entries.filter((x) => !targets.some((t) => t.entry === x)))
      expect(wrapped).toContain(text.slice(e.range.start, e.range.end))
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
    const back = c.adapter.restore(wrapped, records, loc)
    expect(back.text).toBe(text)
  })

  it('wrap then restore through the backup is byte-identical, with the mode kept', () => {
    const file = place()
    fs.chmodSync(file, 0o640)
    const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [] })
    expect(plan.errors).toEqual([])
    const filePlan = plan.files.find((f) => f.location.file === file)
    // Every stdio entry and every URL entry (in file order), but one whose URL is a placeholder.
    const order = plainWrapped(c, box)
    expect(filePlan?.targets.map((t) => t.entry.name)).toEqual(order)
    expect(plan.skipped.map((s) => s.name)).toEqual([
      ...(c.urlSkipped ?? []),
      ...(c.unsupported ?? []),
    ])
    const result = applyWrap(box.ctx, plan, path.join(box.airlock, 'config.json'))
    expect(result.errors).toEqual([])
    expect(fs.readFileSync(file, 'utf8')).toBe(filePlan?.after)
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)

    const configText = fs.readFileSync(path.join(box.airlock, 'config.json'), 'utf8')
    const config = JSON.parse(configText) as {
      servers: {
        name: string
        command?: string
        url?: string
        headers?: Record<string, string>
        secretHeaders?: string[]
      }[]
    }
    expect(config.servers.map((s) => s.name).sort()).toEqual(
      filePlan?.targets.map((t) => t.server).sort(),
    )
    // URL entries are remote servers; a secret-looking header's value is in the store only.
    for (const t of filePlan?.targets.filter((x) => x.entry.transport !== 'stdio') ?? []) {
      const server = config.servers.find((s) => s.name === t.server)
      expect(server?.url).toBe(t.entry.url)
      expect(server?.command).toBeUndefined()
      const headers = c.urlHeaders?.[t.entry.name] ?? {}
      const secret = Object.keys(headers).filter(isSecretHeaderName)
      expect(server?.secretHeaders ?? []).toEqual(secret)
      for (const [k, v] of Object.entries(headers)) {
        if (secret.includes(k)) {
          expect(box.secrets.get(`${t.server}\u0000header:${k}`)).toBe(v)
          expect(configText).not.toContain(v)
        } else expect(server?.headers?.[k]).toBe(v)
      }
    }
    const manifest = readManifest(box.ctx.fs, box.airlock, c.adapter.id)
    expect(manifest.files[0]?.entries.map((e) => e.name)).toEqual(order)
    expect(fs.readFileSync(manifest.files[0]?.backup ?? '')).toEqual(bytes)
    expect(
      scanClients(box.ctx, c.adapter.id)
        .flatMap((r) => r.entries)
        .filter((s) => s.protected)
        .map((s) => s.entry.name),
    ).toEqual(order)

    const restore = planRestore(box.ctx, c.adapter.id)
    expect(restore.files.map((f) => f.method)).toEqual(['backup'])
    expect(applyRestore(box.ctx, restore).errors).toEqual([])
    expect(fs.readFileSync(file)).toEqual(bytes)
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)
    expect(readManifest(box.ctx.fs, box.airlock, c.adapter.id).files).toEqual([])
  })

  it('after an edit elsewhere, restore puts back only the entries and keeps the edit', () => {
    const file = place()
    const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [] })
    applyWrap(box.ctx, plan, path.join(box.airlock, 'config.json'))
    const [from, to] = c.edit
    const wrappedText = fs.readFileSync(file, 'utf8')
    expect(wrappedText).toContain(from)
    fs.writeFileSync(file, wrappedText.replace(from, to))

    const restore = planRestore(box.ctx, c.adapter.id)
    expect(restore.files.map((f) => f.method)).toEqual(['splice'])
    expect(restore.files[0]?.note).toMatch(/changed since it was wrapped/)
    applyRestore(box.ctx, restore)
    expect(fs.readFileSync(file, 'utf8')).toBe(text.replace(from, to))
  })
})

function serverName(entry: ClientServerEntry): string {
  return entry.name.replace(/[^A-Za-z0-9._-]+/g, '-')
}
