import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ToolCatalog } from '../../../src/gateway/proxy/tool-catalog'

const dirs: string[] = []
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-catalog-'))
  dirs.push(d)
  return path.join(d, 'tools')
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('ToolCatalog', () => {
  it('classifies listed tools and keeps the last list per server across restarts', () => {
    const dir = tmp()
    const a = new ToolCatalog(dir)
    expect(a.hasList('chat')).toBe(false)
    a.record(
      'chat',
      [{ name: 'frobnicate', description: 'Clear all stored data' }, 'junk', {}],
      true,
    )
    expect(a.classOf('chat', 'frobnicate')).toMatchObject({
      risk: 'critical',
      because: 'Clear all',
    })
    expect(a.classOf('other', 'frobnicate')).toBeUndefined()
    const b = new ToolCatalog(dir)
    expect(b.classOf('chat', 'frobnicate')?.risk).toBe('critical')
    expect(b.tools('chat').map((t) => t.name)).toEqual(['frobnicate'])
  })

  it('a first page starts the list anew; later pages add to it', () => {
    const c = new ToolCatalog(tmp())
    c.record('s', [{ name: 'a' }], true)
    c.record('s', [{ name: 'b' }], false)
    expect(c.tools('s').map((t) => t.name)).toEqual(['a', 'b'])
    c.record('s', [{ name: 'c' }], true)
    expect(c.tools('s').map((t) => t.name)).toEqual(['c'])
    c.forget('s')
    expect(c.hasList('s')).toBe(false)
  })

  it('an unreadable file is no list (names decide), not a crash', () => {
    const dir = tmp()
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 's.json'), '{not json')
    expect(new ToolCatalog(dir).classOf('s', 'x')).toBeUndefined()
  })
})
