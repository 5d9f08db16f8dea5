/**
 * The pin store (pin on first sight, changed kept beside the pin, new flagged, accept, a damaged
 * file) and the shared side-by-side diff. The clock is a parameter.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PinError, PinStore } from '../../../src/gateway/proxy/tool-pins'
import { definitionChanges, sideBySide } from '../../../src/shared/tool-pins'

let dir: string
let now: number
const clock = () => now
const tool = (name: string, description: string, extra: Record<string, unknown> = {}) => ({
  name,
  description,
  inputSchema: { type: 'object' },
  ...extra,
})

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-pins-'))
  now = Date.parse('2026-12-01T10:00:00Z')
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('PinStore', () => {
  it('pins the first list, keeps a changed definition beside the pin, and accepts it', () => {
    const pins = new PinStore(dir, clock)
    expect(pins.observe('s', [tool('a', 'A'), tool('b', 'B'), { nope: 1 }], true)).toBe(false)
    expect(pins.check('s', 'a')).toEqual({ kind: 'ok' })
    expect(fs.statSync(path.join(dir, 's.json')).mode & 0o777).toBe(0o600)
    now += 86_400_000
    expect(pins.observe('s', [tool('a', 'A, now with instructions'), tool('b', 'B')], true)).toBe(
      true,
    )
    const changed = pins.check('s', 'a')
    expect(changed).toMatchObject({
      kind: 'changed',
      pinnedAt: '2026-12-01T10:00:00.000Z',
      pinned: { description: 'A' },
      current: { description: 'A, now with instructions' },
    })
    // The same change seen again is not news; a fresh store reads it from the file.
    expect(pins.observe('s', [tool('a', 'A, now with instructions')], true)).toBe(false)
    const again = new PinStore(dir, clock)
    expect(again.check('s', 'a').kind).toBe('changed')
    expect(again.view('s').map((v) => [v.name, v.state])).toEqual([
      ['a', 'changed'],
      ['b', 'pinned'],
    ])
    // An accept of a definition that changed again since it was shown accepts nothing.
    expect(again.accept('s', 'a', 'f'.repeat(64))).toEqual([])
    expect(again.accept('s', 'a')).toEqual(['a'])
    expect(again.check('s', 'a')).toEqual({ kind: 'ok' })
    expect(again.view('s')[0]).toMatchObject({ pinnedAt: '2026-12-02T10:00:00.000Z' })
    expect(() => again.accept('s', 'zz')).toThrow(PinError)
  })

  it('a changed tool that changes back is no longer changed; a later tool is new until accepted', () => {
    const pins = new PinStore(dir, clock)
    pins.observe('s', [tool('a', 'A')], true)
    pins.observe('s', [tool('a', 'A2')], true)
    expect(pins.observe('s', [tool('a', 'A')], true)).toBe(true)
    expect(pins.check('s', 'a').kind).toBe('ok')
    // A second page of the first list is not "new"; a later list's extra tool is.
    const other = new PinStore(path.join(dir, 'o'), clock)
    other.observe('t', [tool('a', 'A')], true)
    other.observe('t', [tool('b', 'B')], false)
    expect(other.summary(['t'])).toEqual([])
    expect(other.observe('t', [tool('a', 'A'), tool('c', 'C')], true)).toBe(true)
    expect(other.summary(['t'])).toEqual([{ server: 't', changed: [], added: ['c'] }])
    expect(other.check('t', 'c').kind).toBe('ok')
    expect(other.accept('t')).toEqual(['c'])
    expect(other.summary(['t'])).toEqual([])
  })

  it('a damaged pin file is moved aside and what the server lists is flagged as new', () => {
    fs.writeFileSync(path.join(dir, 's.json'), '{not json')
    const logs: string[] = []
    const pins = new PinStore(dir, clock, (m) => logs.push(m))
    pins.observe('s', [tool('a', 'A')], true)
    expect(logs[0]).toContain('could not be read')
    expect(pins.summary(['s'])).toEqual([{ server: 's', changed: [], added: ['a'] }])
    expect(fs.readdirSync(dir).some((f) => f.startsWith('s.json.damaged-'))).toBe(true)
  })

  it('annotations and the input schema are pinned too; renames carry the pins', () => {
    const pins = new PinStore(dir, clock)
    pins.observe('s', [tool('a', 'A', { annotations: { readOnlyHint: true } })], true)
    pins.observe('s', [tool('a', 'A', { annotations: { readOnlyHint: false } })], true)
    expect(pins.check('s', 'a').kind).toBe('changed')
    pins.rename('s', 's2')
    expect(pins.check('s2', 'a').kind).toBe('changed')
    expect(pins.check('s', 'a').kind).toBe('ok')
  })
})

describe('definition diff', () => {
  it('names the fields that changed, and aligns lines side by side', () => {
    expect(
      definitionChanges(
        { name: 'a', description: 'x', inputSchema: { type: 'object' } },
        { name: 'a', description: 'y', inputSchema: { type: 'object' } },
      ),
    ).toEqual([{ field: 'description', old: 'x', new: 'y' }])
    expect(sideBySide('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { kind: 'same', left: 'a', right: 'a' },
      { kind: 'changed', left: 'b', right: 'B' },
      { kind: 'same', left: 'c', right: 'c' },
      { kind: 'added', left: '', right: 'd' },
    ])
    expect(sideBySide('', 'new')).toEqual([{ kind: 'added', left: '', right: 'new' }])
  })
})
