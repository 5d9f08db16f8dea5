import { describe, expect, it } from 'vitest'
import { escapeUnsafe, excerpt } from '../../../src/shared/excerpt'
import { canonicalJson } from '../../../src/shared/canonical-json'

describe('excerpt', () => {
  it('makes control characters, escapes and bidi overrides visible', () => {
    expect(escapeUnsafe('a\u001b[31mb\u202ec\u0000')).toBe('a\\u001b[31mb\\u202ec\\u0000')
  })

  it('cuts to the budget and says how long the original was', () => {
    const out = excerpt({ s: 'x'.repeat(5000) }, 100)
    expect(out.length).toBeLessThan(130)
    expect(out).toMatch(/… \[\d+ chars\]$/)
  })

  it('keeps short values whole and survives unserializable ones', () => {
    expect(excerpt({ a: 1 })).toBe('{"a":1}')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(excerpt(cyclic)).toBe('[unserializable]')
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}',
    )
  })
})
