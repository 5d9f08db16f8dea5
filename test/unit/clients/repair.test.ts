/**
 * Wrapped entries whose node or shim path broke (Node upgraded, Airlock moved or updated, an
 * AppImage mounted elsewhere): every adapter reports them broken, not protected; a wrap repairs
 * them (command and args only, nothing else) without importing anything; the manifest keeps the
 * original, so a restore still gives back the user's file byte for byte.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ShimCommand } from '../../../src/clients/adapters/adapter'
import { readManifest } from '../../../src/clients/manifest'
import {
  applyRestore,
  applyWrap,
  planRestore,
  planWrap,
  scanClients,
} from '../../../src/clients/protect'
import { brokenShim } from '../../../src/clients/shim-command'
import { CASES, fixture, plainWrapped, sandbox, SHIM, type Sandbox } from './helpers'

/** An install that is gone: neither path exists in the sandbox's file system. */
const GONE: ShimCommand = { node: '/gone/bin/node', script: '/gone/bin/airlock.js' }
const DESKTOP = 'home/.config/Claude/claude_desktop_config.json'

let box: Sandbox
beforeEach(() => {
  box = sandbox()
})
afterEach(() => box.cleanup())

const configFile = (): string => path.join(box.airlock, 'config.json')

describe('brokenShim', () => {
  const none = (): boolean => false
  const all = (): boolean => true
  it('names the missing node, airlock binary or shim script', () => {
    expect(brokenShim('/gone/node', ['/x/airlock.js', 'connect', 's'], none)).toBe(
      'node not found at /gone/node (was Node moved or upgraded?)',
    )
    expect(brokenShim('/opt/Airlock/airlock', ['connect', 's'], none)).toMatch(
      /^airlock not found at \/opt\/Airlock\/airlock/,
    )
    expect(
      brokenShim('/usr/bin/node', ['/tmp/.mount_x/bin/airlock.js', 'connect', 's'], (f) =>
        f.startsWith('/usr'),
      ),
    ).toBe('shim not found at /tmp/.mount_x/bin/airlock.js (was Airlock moved or updated?)')
    expect(brokenShim('C:\\node\\node.exe', ['C:\\a\\airlock.js', 'connect', 's'], none)).toMatch(
      /^node not found at C:\\node\\node\.exe/,
    )
  })
  it('leaves commands looked up on the PATH, and paths that exist, alone', () => {
    expect(brokenShim('node', ['airlock.js', 'connect', 's'], none)).toBeUndefined()
    expect(brokenShim('npx', ['airlock', 'connect', 's'], none)).toBeUndefined()
    expect(brokenShim('/usr/bin/node', ['/a/bin/airlock.js', 'connect', 's'], all)).toBeUndefined()
  })
})

describe.each(CASES)('$adapter.displayName ($fixture)', (c) => {
  it('a broken wrap is reported broken, repaired in place, and restore is byte-identical', () => {
    const bytes = fixture(c.fixture)
    const file = box.put(c.place, bytes)
    const first = planWrap(box.ctx, c.adapter.id, { shim: GONE, existing: [] })
    expect(applyWrap(box.ctx, first, configFile()).errors).toEqual([])
    const wrappedText = fs.readFileSync(file, 'utf8')
    const original = readManifest(box.ctx.fs, box.airlock, c.adapter.id).files[0]?.entries

    const scanned = scanClients(box.ctx, c.adapter.id).flatMap((r) => r.entries)
    const broken = scanned.filter((s) => s.broken)
    const wrapped = plainWrapped(c, box)
    expect(broken.map((s) => s.entry.name)).toEqual(wrapped)
    for (const s of broken) {
      expect(s.protected).toBe(false)
      expect(s.problem).toContain('node not found at /gone/bin/node')
      expect(s.problem).toContain(`"airlock clients wrap ${c.adapter.id} --server `)
    }

    const config = fs.readFileSync(configFile())
    const plan = planWrap(box.ctx, c.adapter.id, { shim: SHIM, existing: [] })
    expect(plan.errors).toEqual([])
    expect(plan.imports).toEqual([])
    expect(plan.skipped.filter((s) => s.reason.startsWith('already protected'))).toEqual([])
    expect(plan.files[0]?.targets.map((t) => [t.entry.name, !!t.repair])).toEqual(
      wrapped.map((n) => [n, true]),
    )
    expect(applyWrap(box.ctx, plan, configFile()).errors).toEqual([])
    expect(fs.readFileSync(configFile())).toEqual(config)
    // Only the node and the script changed.
    expect(fs.readFileSync(file, 'utf8')).toBe(
      wrappedText.split(GONE.node).join(SHIM.node).split(GONE.script).join(SHIM.script),
    )
    const now = scanClients(box.ctx, c.adapter.id).flatMap((r) => r.entries)
    expect(now.filter((s) => s.protected).map((s) => s.entry.name)).toEqual(wrapped)
    expect(now.some((s) => s.broken)).toBe(false)

    const manifest = readManifest(box.ctx.fs, box.airlock, c.adapter.id)
    expect(manifest.files[0]?.entries.map((e) => e.original)).toEqual(
      original?.map((e) => e.original),
    )
    const restore = planRestore(box.ctx, c.adapter.id)
    expect(restore.files.map((f) => f.method)).toEqual(['backup'])
    expect(applyRestore(box.ctx, restore).errors).toEqual([])
    expect(fs.readFileSync(file)).toEqual(bytes)
  })
})

describe('repairing an entry', () => {
  it('keeps its env, cwd and other keys; an entry wrapped by hand gets no restore record', () => {
    const entry = {
      command: GONE.node,
      args: [GONE.script, 'connect', 'notes'],
      env: { AIRLOCK_HOME: '/data/airlock', EXTRA: '1' },
      cwd: '/work',
      disabled: false,
    }
    const file = box.put(DESKTOP, JSON.stringify({ mcpServers: { notes: entry } }, null, 2))
    const plan = planWrap(box.ctx, 'claude-desktop', {
      shim: { ...SHIM, env: { AIRLOCK_HOME: box.airlock, ELECTRON_RUN_AS_NODE: '1' } },
      existing: [],
    })
    expect(plan.errors).toEqual([])
    expect(applyWrap(box.ctx, plan, configFile()).errors).toEqual([])
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { mcpServers: { notes: unknown } }
    expect(doc.mcpServers.notes).toEqual({
      ...entry,
      command: SHIM.node,
      args: [SHIM.script, 'connect', 'notes'],
      // The entry's data directory stays; what the new shim needs to run is added.
      env: { AIRLOCK_HOME: '/data/airlock', EXTRA: '1', ELECTRON_RUN_AS_NODE: '1' },
    })
    expect(fs.existsSync(configFile())).toBe(false)
    expect(readManifest(box.ctx.fs, box.airlock, 'claude-desktop').files).toEqual([])
    expect(planRestore(box.ctx, 'claude-desktop').files).toEqual([])
  })

  it('--http leaves a broken entry alone and says which command repairs it', () => {
    box.put(
      'home/.cursor/mcp.json',
      JSON.stringify({
        mcpServers: { n: { command: GONE.node, args: [GONE.script, 'connect', 'n'] } },
      }),
    )
    const plan = planWrap(box.ctx, 'cursor', {
      shim: SHIM,
      existing: [],
      http: { base: 'http://127.0.0.1:5000/mcp/', token: 'a'.repeat(64) },
    })
    expect(plan.files).toEqual([])
    expect(plan.skipped.map((s) => s.reason)).toEqual([
      'broken (node not found at /gone/bin/node (was Node moved or upgraded?)); "airlock clients wrap cursor --server n" (without --http) repairs it',
    ])
  })
})
