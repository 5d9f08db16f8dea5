/**
 * What must never happen to a client's config file: a text the client would reject is never
 * written; a read-only, malformed or non-UTF-8 file gets a clear error naming it and keeps its
 * bytes; a file changed while Airlock prepared it is not overwritten; a symlinked config stays
 * a symlink. Also re-wrapping, drift then re-wrap, and restoring after the user removed an entry.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { claudeDesktop } from '../../../src/clients/adapters/claude-desktop'
import { defineClient } from '../../../src/clients/adapters/define-client'
import { readConfig } from '../../../src/node/config-store'
import type { ClientConfigError } from '../../../src/clients/errors'
import {
  applyRestore,
  applyWrap,
  planRestore,
  planWrap,
  scanClients,
  type ClientsContext,
} from '../../../src/clients/protect'
import { CASES, fixture, sandbox, SHIM, type Sandbox } from './helpers'

let box: Sandbox
beforeEach(() => {
  box = sandbox()
})
afterEach(() => box.cleanup())

const DESKTOP = 'home/.config/Claude/claude_desktop_config.json'
const configFile = (): string => path.join(box.airlock, 'config.json')

function snapshot(file: string): { bytes: Buffer; mode: number } {
  return { bytes: fs.readFileSync(file), mode: fs.statSync(file).mode }
}

describe('files Airlock refuses to touch', () => {
  it('a read-only file gets an error naming it and how to proceed, and keeps its bytes', () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    fs.chmodSync(file, 0o444)
    const before = snapshot(file)
    const plan = planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] })
    expect(plan.files).toEqual([])
    expect(plan.errors).toHaveLength(1)
    const err = plan.errors[0] as ClientConfigError
    expect(err.code).toBe('READ_ONLY')
    expect(err.message).toContain(file)
    expect(err.message).toMatch(/chmod u\+w/)
    applyWrap(box.ctx, plan, configFile())
    expect(snapshot(file)).toEqual(before)
    expect(fs.existsSync(path.join(box.airlock, 'backups'))).toBe(false)
    expect(fs.existsSync(configFile())).toBe(false)
  })

  it.each([
    [
      'claude-desktop',
      DESKTOP,
      '{\n  "mcpServers": {\n    "a": { "command": "x" }\n    "b": { "command": "y" }\n  }\n}\n',
      /:4:5: expected "," or "}"/,
    ],
    [
      'claude-desktop',
      DESKTOP,
      '{\n  // my servers\n  "mcpServers": {}\n}\n',
      /:2:3: comments are not allowed/,
    ],
    ['claude-desktop', DESKTOP, '{ "mcpServers": { "a": { "command": "x", } } }', /trailing comma/],
    [
      'gemini-cli',
      'home/.gemini/settings.json',
      '{\n  // ok here\n  "mcpServers": { "a": { "command": "x" }, },\n}\n',
      /:3:.*trailing comma/,
    ],
    [
      'codex',
      'home/.codex/config.toml',
      '[mcp_servers.a]\ncommand = "x"\nargs = ["unterminated\n',
      /config\.toml:3:/,
    ],
    [
      'continue',
      'home/.continue/config.yaml',
      'mcpServers:\n  - name: a\n    command: [x\n',
      /config\.yaml:\d+:\d+:/,
    ],
    [
      'zed',
      'home/.config/zed/settings.json',
      '{ "context_servers": { "a": { "command": "x" } } /* unterminated',
      /unterminated \/\* comment/,
    ],
  ])(
    '%s: a malformed file gets file:line:column and is left alone',
    (client, place, text, message) => {
      const file = box.put(place, text)
      const before = snapshot(file)
      const report = scanClients(box.ctx, client).find((r) => r.location.file === file)
      expect(report?.error?.code).toBe('MALFORMED')
      expect(report?.error?.message).toMatch(message)
      expect(report?.error?.message).toContain(file)
      expect(report?.error?.message).toMatch(/nothing was changed/)
      const plan = planWrap(box.ctx, client, { shim: SHIM, existing: [] })
      expect(plan.errors.map((e) => e.code)).toEqual(['MALFORMED'])
      applyWrap(box.ctx, plan, configFile())
      expect(snapshot(file)).toEqual(before)
    },
  )

  it('a file that is not UTF-8 is left alone', () => {
    const file = box.put(
      DESKTOP,
      Buffer.concat([
        Buffer.from('{"mcpServers": {"a": {"command": "caf'),
        Buffer.from([0xe9]),
        Buffer.from('"}}}'),
      ]),
    )
    const before = snapshot(file)
    const plan = planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] })
    expect(plan.errors[0]?.message).toMatch(/not UTF-8/)
    expect(snapshot(file)).toEqual(before)
  })

  it('a file changed between the plan and the write is not overwritten', () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    const plan = planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] })
    const edited = fs.readFileSync(file, 'utf8').replace('Alt+Space', 'Ctrl+Space')
    fs.writeFileSync(file, edited)
    const result = applyWrap(box.ctx, plan, configFile())
    expect(result.written).toEqual([])
    expect(result.errors[0]?.code).toBe('CHANGED_DURING_WRITE')
    expect(fs.readFileSync(file, 'utf8')).toBe(edited)
  })
})

describe('a text the client would reject is never written', () => {
  // An adapter with a broken wrap: the checks of defineClient must refuse its output.
  function faulty(edit: (entryText: string) => string): ClientsContext {
    const adapter = defineClient({
      id: 'claude-desktop',
      displayName: 'Faulty',
      format: 'json',
      configFiles: (env, dirs) => claudeDesktop.configFiles(env, dirs),
      parse: (text) => JSON.parse(text) as unknown,
      entries: (text, loc) => claudeDesktop.read(text, loc),
      movedKeys: ['command', 'args', 'env', 'cwd'],
      urlMovedKeys: ['command', 'args', 'env', 'cwd', 'url', 'headers', 'type'],
      wrapEdits: (text, entry) => [
        {
          start: entry.range.start,
          end: entry.range.end,
          text: edit(text.slice(entry.range.start, entry.range.end)),
        },
      ],
    })
    return { ...box.ctx, adapters: [adapter] }
  }
  const wrappedText = (server: string): string =>
    JSON.stringify({ command: SHIM.node, args: [SHIM.script, 'connect', server] })

  it.each([
    [
      'output that does not parse (a trailing comma)',
      (t: string) => t.replace(/\}$/, ',}'),
      /would not parse/,
    ],
    [
      'an entry that still runs the real server',
      (t: string) => t,
      /would not run "airlock connect/,
    ],
    [
      'an entry that lost a key of its own',
      (t: string) =>
        t.includes('"url"') ? t : wrappedText('filesystem').replace('}', ', "disabled": true}'),
      /would (change its "disabled"|not run)/,
    ],
  ])('%s', (_, edit, message) => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    const before = snapshot(file)
    const ctx = faulty(edit)
    const plan = planWrap(ctx, 'claude-desktop', { shim: SHIM, existing: [] })
    expect(plan.files).toEqual([])
    expect(plan.errors[0]?.code).toBe('WOULD_BREAK_FILE')
    expect(plan.errors[0]?.message).toMatch(message)
    expect(plan.errors[0]?.message).toContain(file)
    applyWrap(ctx, plan, configFile())
    expect(snapshot(file)).toEqual(before)
  })

  it('strict JSON files never get comments or trailing commas from a wrap', () => {
    for (const c of CASES.filter((x) =>
      ['claude-desktop', 'claude-code', 'cline'].includes(x.adapter.id),
    )) {
      const file = box.put(c.place, fixture(c.fixture))
      const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [] })
      const f = plan.files.find((x) => x.location.file === file)
      expect(() => JSON.parse(f?.after ?? '')).not.toThrow()
    }
  })
})

describe('wrapping again, drift, and restore edge cases', () => {
  it('a second wrap has nothing to do', () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] }),
      configFile(),
    )
    const once = fs.readFileSync(file)
    const again = planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] })
    expect(again.files).toEqual([])
    expect(
      again.skipped.filter((s) => s.reason.startsWith('already protected')).map((s) => s.name),
    ).toEqual(['filesystem', 'github', 'sqlite', 'linear'])
    expect(fs.readFileSync(file)).toEqual(once)
  })

  it('--server wraps one entry; a later wrap of the rest keeps the byte-for-byte restore', () => {
    const original = fixture('claude_desktop_config.json')
    const file = box.put(DESKTOP, original)
    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'claude-desktop', { servers: ['github'], shim: SHIM, existing: [] }),
      configFile(),
    )
    const entries = scanClients(box.ctx, 'claude-desktop')[0]?.entries ?? []
    expect(entries.filter((s) => s.protected).map((s) => s.entry.name)).toEqual(['github'])
    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] }),
      configFile(),
    )
    const restore = planRestore(box.ctx, 'claude-desktop')
    expect(restore.files[0]?.method).toBe('backup')
    applyRestore(box.ctx, restore)
    expect(fs.readFileSync(file)).toEqual(original)
  })

  it('an entry the client rewrote back is reported as drift, can be wrapped again and restored', () => {
    const original = fixture('claude_desktop_config.json')
    const file = box.put(DESKTOP, original)
    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] }),
      configFile(),
    )
    // The client puts the original "github" entry back.
    const wrapped = fs.readFileSync(file, 'utf8')
    const gh = claudeDesktop
      .read(wrapped, { client: 'claude-desktop', file, scope: 'user' })
      .find((e) => e.name === 'github')
    const origGh = claudeDesktop
      .read(original.toString('utf8'), { client: 'claude-desktop', file, scope: 'user' })
      .find((e) => e.name === 'github')
    if (!gh || !origGh) throw new Error('no github entry')
    fs.writeFileSync(
      file,
      wrapped.slice(0, gh.range.start) +
        original.toString('utf8').slice(origGh.range.start, origGh.range.end) +
        wrapped.slice(gh.range.end),
    )
    const status = scanClients(box.ctx, 'claude-desktop')[0]?.entries.find(
      (s) => s.entry.name === 'github',
    )
    expect(status?.protected).toBe(false)
    expect(status?.problem).toMatch(/drift/)
    const again = planWrap(box.ctx, 'claude-desktop', {
      shim: SHIM,
      existing: readConfig(configFile()).servers,
    })
    expect(again.files[0]?.targets.map((t) => t.server)).toEqual(['github'])
    expect(again.imports[0]?.reuse).toBe(true)
    applyWrap(box.ctx, again, configFile())
    applyRestore(box.ctx, planRestore(box.ctx, 'claude-desktop'))
    expect(fs.readFileSync(file)).toEqual(original)
  })

  it('restore after the user removed a wrapped entry puts back the others and says so', () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] }),
      configFile(),
    )
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { mcpServers: Record<string, unknown> }
    delete doc.mcpServers.sqlite
    fs.writeFileSync(file, JSON.stringify(doc, null, 2))
    const plan = planRestore(box.ctx, 'claude-desktop')
    expect(plan.files[0]?.missing).toEqual(['sqlite'])
    expect(plan.files[0]?.restored).toEqual(['filesystem', 'github', 'linear'])
    applyRestore(box.ctx, plan)
    const back = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      mcpServers: Record<string, { command?: string }>
    }
    expect(back.mcpServers.filesystem?.command).toBe('npx')
    expect(back.mcpServers.github?.command).toBe('docker')
    expect(back.mcpServers.sqlite).toBeUndefined()
  })

  it('a symlinked config file stays a symlink; its target is rewritten', () => {
    const target = box.put(
      'dotfiles/claude_desktop_config.json',
      fixture('claude_desktop_config.json'),
    )
    const link = path.join(box.root, DESKTOP)
    fs.mkdirSync(path.dirname(link), { recursive: true })
    fs.symlinkSync(target, link)
    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'claude-desktop', { shim: SHIM, existing: [] }),
      configFile(),
    )
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(fs.readFileSync(target, 'utf8')).toContain('"connect"')
    applyRestore(box.ctx, planRestore(box.ctx, 'claude-desktop'))
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(fs.readFileSync(target)).toEqual(fixture('claude_desktop_config.json'))
  })

  it('a file that is both a user and a project file (run in the home directory) is wrapped once', () => {
    const file = box.put('home/.cursor/mcp.json', fixture('cursor-mcp.json'))
    const ctx = { ...box.ctx, env: { ...box.env, projects: [box.home] } }
    expect(ctx.adapters.find((a) => a.id === 'cursor')?.detect(ctx.env, ctx.fs)).toEqual([
      { client: 'cursor', file, scope: 'user' },
    ])
    const plan = planWrap(ctx, 'cursor', { shim: SHIM, existing: [] })
    expect(plan.files.map((f) => f.location.file)).toEqual([file])
    expect(applyWrap(ctx, plan, configFile()).errors).toEqual([])
  })

  it('an unknown client is an error listing the known ones', () => {
    expect(() => planWrap(box.ctx, 'notepad', { shim: SHIM, existing: [] })).toThrow(
      /unknown client "notepad"; known clients: claude-desktop, claude-code/,
    )
  })
})
