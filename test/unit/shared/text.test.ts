import { describe, expect, it } from 'vitest'
import { escapeUnsafe, excerpt, terminalText } from '../../../src/shared/text'
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

describe('terminalText', () => {
  it('shows a line break as \\n, a tab as a space, and escapes ANSI, bidi and separators', () => {
    expect(terminalText('a\nb\tc\u001b[2Jd\u202egnp.exe\u2066e\u2028f')).toBe(
      'a\\nb c\\u001b[2Jd\\u202egnp.exe\\u2066e\\u2028f',
    )
  })

  it('cuts to the budget with an ellipsis', () => {
    expect(terminalText('abcdef', 4)).toBe('abc…')
  })
})

describe('escapeUnsafe with a replacement', () => {
  it('replaces every unsafe character, bidi included, with what it is given', () => {
    expect(escapeUnsafe('a\u202eb\nc', () => ' ')).toBe('a b c')
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}',
    )
  })
})
