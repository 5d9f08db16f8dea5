import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Grants, argsDigest } from '../../../src/gateway/approvals/grants'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-grants-'))
  dirs.push(d)
  return d
}
const q = (
  over: Partial<{ server: string; tool: string; session: string; digest: string }> = {},
) => ({
  server: 'mail',
  tool: 'send',
  session: 's1',
  digest: argsDigest({ to: 'a@b.c' }),
  ...over,
})

describe('argsDigest', () => {
  it('ignores key order and distinguishes values', () => {
    expect(argsDigest({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      argsDigest({ b: [1, { d: 3, c: 2 }], a: 1 }),
    )
    expect(argsDigest({ a: 1 })).not.toBe(argsDigest({ a: 2 }))
    expect(argsDigest(undefined)).toBe(argsDigest({}))
  })
})

describe('Grants', () => {
  it('a call grant covers this exact call once', () => {
    const g = new Grants()
    g.add({ scope: 'call', server: 'mail', tool: 'send', digest: q().digest }, 0)
    expect(g.match(q({ digest: argsDigest({ to: 'x@y.z' }) }), 1)).toBeUndefined()
    expect(g.match(q({ session: 'other' }), 1)?.scope).toBe('call')
    expect(g.match(q(), 2)).toBeUndefined()
  })

  it('a session grant covers the tool in that session only, and ends with it', () => {
    const g = new Grants()
    g.add({ scope: 'session', server: 'mail', tool: 'send', session: 's1' }, 0)
    expect(g.match(q(), 1)?.scope).toBe('session')
    expect(g.match(q(), 2)?.scope).toBe('session')
    expect(g.match(q({ session: 's2' }), 3)).toBeUndefined()
    expect(g.match(q({ tool: 'delete' }), 3)).toBeUndefined()
    g.endSession('s1')
    expect(g.match(q(), 4)).toBeUndefined()
  })

  it('a tool grant expires at its time', () => {
    const g = new Grants()
    g.add({ scope: 'tool', server: 'mail', tool: 'send', until: 1000 }, 0)
    expect(g.match(q({ session: 'any' }), 999)?.scope).toBe('tool')
    expect(g.match(q(), 1000)).toBeUndefined()
    expect(g.list()).toHaveLength(0)
  })

  it('always grants persist across instances (0600) and can be revoked', () => {
    const file = path.join(tmp(), 'grants.json')
    const g = new Grants(file)
    const grant = g.add({ scope: 'always', server: 'mail', tool: 'send' }, 0)
    g.add({ scope: 'session', server: 'mail', tool: 'read', session: 's1' }, 0)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const again = new Grants(file)
    expect(again.list().map((x) => x.scope)).toEqual(['always'])
    expect(again.match(q({ session: 'new' }), 5)?.id).toBe(grant.id)
    expect(again.revoke(grant.id)).toBe(true)
    expect(again.revoke(grant.id)).toBe(false)
    expect(new Grants(file).list()).toHaveLength(0)
  })

  it('an unreadable grants file starts empty (fail closed)', () => {
    const file = path.join(tmp(), 'grants.json')
    fs.writeFileSync(file, '{not json')
    expect(new Grants(file).list()).toEqual([])
  })
})

describe('expiring grants (allow for 1 hour)', () => {
  it('a tool grant covers every session until it expires, then is gone from match and list', () => {
    const g = new Grants()
    g.add({ scope: 'tool', server: 'mail', tool: 'send', until: 1000 + 3_600_000 }, 1000)
    expect(g.match(q({ session: 'other' }), 2000)?.scope).toBe('tool')
    expect(g.list(1000 + 3_599_999)).toHaveLength(1)
    expect(g.list(1000 + 3_600_000)).toHaveLength(0)
    expect(g.match(q(), 1000 + 3_600_001)).toBeUndefined()
  })
})
