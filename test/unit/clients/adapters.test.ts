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
import { CASES, fixture, locationOf, sandbox, SHIM, type Sandbox } from './helpers'

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

  it('wrap then restore through the backup is byte-identical, with the mode kept', () => {
    const file = place()
    fs.chmodSync(file, 0o640)
    const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [] })
    expect(plan.errors).toEqual([])
    const filePlan = plan.files.find((f) => f.location.file === file)
    expect(filePlan?.targets.map((t) => t.entry.name)).toEqual(c.stdio)
    const result = applyWrap(box.ctx, plan, path.join(box.airlock, 'config.json'))
    expect(result.errors).toEqual([])
    expect(fs.readFileSync(file, 'utf8')).toBe(filePlan?.after)
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)

    const config = JSON.parse(fs.readFileSync(path.join(box.airlock, 'config.json'), 'utf8')) as {
      servers: { name: string; command: string }[]
    }
    expect(config.servers.map((s) => s.name).sort()).toEqual(
      filePlan?.targets.map((t) => t.server).sort(),
    )
    const manifest = readManifest(box.ctx.fs, box.airlock, c.adapter.id)
    expect(manifest.files[0]?.entries.map((e) => e.name)).toEqual(c.stdio)
    expect(fs.readFileSync(manifest.files[0]?.backup ?? '')).toEqual(bytes)
    expect(
      scanClients(box.ctx, c.adapter.id)
        .flatMap((r) => r.entries)
        .filter((s) => s.protected)
        .map((s) => s.entry.name),
    ).toEqual(c.stdio)

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
