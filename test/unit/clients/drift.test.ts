/**
 * Drift: after a wrap, the watcher reports a wrapped entry that a client rewrote back to the
 * real server (`protected: false`) and again when it is re-wrapped — with an injected poll, and
 * once with the real fs.watchFile.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DriftWatcher,
  nodeWatchPort,
  wrappedFiles,
  type DriftEvent,
  type WatchPort,
} from '../../../src/clients/drift'
import { applyWrap, planWrap } from '../../../src/clients/protect'
import { clientAdapters } from '../../../src/clients/adapters/registry'
import { waitFor } from '../../helpers/harness'
import { fixture, sandbox, SHIM, type Sandbox } from './helpers'

let box: Sandbox
let file: string
let original: string

beforeEach(() => {
  box = sandbox()
  file = box.put('home/.cursor/mcp.json', fixture('cursor-mcp.json'))
  original = fs.readFileSync(file, 'utf8')
  applyWrap(
    box.ctx,
    planWrap(box.ctx, 'cursor', { shim: SHIM, existing: [] }),
    path.join(box.airlock, 'config.json'),
  )
})
afterEach(() => box.cleanup())

/** The original entry `name` put back in the wrapped file (what a client rewriting it would do). */
function unwrap(name: string): void {
  const loc = { client: 'cursor', file, scope: 'user' as const }
  const cursor = clientAdapters.find((a) => a.id === 'cursor')
  const wrapped = fs.readFileSync(file, 'utf8')
  const now = cursor?.read(wrapped, loc).find((e) => e.name === name)
  const was = cursor?.read(original, loc).find((e) => e.name === name)
  if (!now || !was) throw new Error(`no entry ${name}`)
  fs.writeFileSync(
    file,
    wrapped.slice(0, now.range.start) +
      original.slice(was.range.start, was.range.end) +
      wrapped.slice(now.range.end),
  )
}

/** Whether a file exists, as the sandbox sees it (the wrapped entries' node and shim do). */
const exists = (f: string): boolean => box.ctx.fs.stat(f) !== undefined

/** A poll the test drives by hand. */
function manualPort(): WatchPort & { fire(): void; watched: Set<string> } {
  const listeners = new Map<string, () => void>()
  const watched = new Set<string>()
  return {
    watched,
    watch(f, _interval, onChange) {
      listeners.set(f, onChange)
      watched.add(f)
      return () => {
        listeners.delete(f)
        watched.delete(f)
      }
    },
    read: (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined),
    fire() {
      for (const l of listeners.values()) l()
    },
  }
}

describe('DriftWatcher', () => {
  it('reports a rewrite back, a re-wrap and a deleted file', () => {
    const port = manualPort()
    const events: DriftEvent[] = []
    const watcher = new DriftWatcher({
      adapters: clientAdapters,
      files: wrappedFiles(box.ctx.fs, box.airlock, clientAdapters),
      port,
      exists,
      onChange: (e) => events.push(e),
    })
    const status = watcher.start()
    expect(status.map((s) => [s.server, s.protected])).toEqual([
      ['brave-search', true],
      ['notion', true],
      ['time', true],
    ])
    expect(events).toEqual([])
    expect([...port.watched].sort()).toEqual([file, SHIM.node, SHIM.script].sort())

    unwrap('time')
    port.fire()
    expect(events).toEqual([
      { client: 'cursor', file, server: 'time', airlockServer: 'time', protected: false },
    ])

    port.fire() // no change, no event
    expect(events).toHaveLength(1)

    applyWrap(
      box.ctx,
      planWrap(box.ctx, 'cursor', { shim: SHIM, existing: [] }),
      path.join(box.airlock, 'config.json'),
    )
    port.fire()
    expect(events.map((e) => [e.server, e.protected])).toEqual([
      ['time', false],
      ['time', true],
    ])

    fs.unlinkSync(file)
    port.fire()
    expect(events.slice(2).map((e) => [e.server, e.protected])).toEqual([
      ['brave-search', false],
      ['notion', false],
      ['time', false],
    ])
    watcher.stop()
    expect(port.watched.size).toBe(0)
  })

  it('reports entries already unprotected when it starts, and follows setFiles', () => {
    unwrap('brave-search')
    const port = manualPort()
    const events: DriftEvent[] = []
    const watcher = new DriftWatcher({
      adapters: clientAdapters,
      files: wrappedFiles(box.ctx.fs, box.airlock, clientAdapters),
      port,
      exists,
      onChange: (e) => events.push(e),
    })
    watcher.start()
    expect(events.map((e) => [e.server, e.protected])).toEqual([['brave-search', false]])
    watcher.setFiles([])
    expect(port.watched.size).toBe(0)
    watcher.stop()
  })

  it('notices a rewrite through fs.watchFile', async () => {
    const events: DriftEvent[] = []
    const watcher = new DriftWatcher({
      adapters: clientAdapters,
      files: wrappedFiles(box.ctx.fs, box.airlock, clientAdapters),
      port: nodeWatchPort(),
      intervalMs: 20,
      exists,
      onChange: (e) => events.push(e),
    })
    watcher.start()
    try {
      // Different size and mtime, so the stat poll sees it.
      await new Promise((r) => setTimeout(r, 30))
      unwrap('brave-search')
      await waitFor(() => events.length > 0, 5000, 'a drift event')
      expect(events[0]).toMatchObject({
        client: 'cursor',
        server: 'brave-search',
        protected: false,
      })
    } finally {
      watcher.stop()
    }
  })

  it('reports a wrapped entry whose node disappears as broken, without its file changing', () => {
    const port = manualPort()
    const events: DriftEvent[] = []
    const gone = new Set<string>()
    const watcher = new DriftWatcher({
      adapters: clientAdapters,
      files: wrappedFiles(box.ctx.fs, box.airlock, clientAdapters),
      port,
      exists: (f) => !gone.has(f) && exists(f),
      onChange: (e) => events.push(e),
    })
    watcher.start()
    // The config file, and the node and shim the wrapped entries run.
    expect([...port.watched].sort()).toEqual([file, SHIM.node, SHIM.script].sort())

    gone.add(SHIM.node) // Node upgraded: the absolute path in the entries is gone
    port.fire()
    expect(events.map((e) => [e.server, e.protected, e.broken])).toEqual([
      ['brave-search', false, `node not found at ${SHIM.node} (was Node moved or upgraded?)`],
      ['notion', false, `node not found at ${SHIM.node} (was Node moved or upgraded?)`],
      ['time', false, `node not found at ${SHIM.node} (was Node moved or upgraded?)`],
    ])

    gone.clear() // reinstalled
    port.fire()
    expect(events.slice(3).map((e) => [e.server, e.protected, e.broken])).toEqual([
      ['brave-search', true, undefined],
      ['notion', true, undefined],
      ['time', true, undefined],
    ])
    watcher.stop()
    expect(port.watched.size).toBe(0)
  })
})
