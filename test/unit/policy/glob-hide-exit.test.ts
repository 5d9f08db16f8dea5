import { describe, expect, it } from 'vitest'
import { describeDecision, exitCodeFor } from '../../../src/shared/policy/eval-exit'
import {
  compileConditionRegex,
  ConditionRegexError,
  compileGlob,
  findToolEntry,
  globMatches,
  isGlob,
} from '../../../src/shared/policy/glob'
import { filterToolsList, isHidden } from '../../../src/shared/policy/hide'
import type { Decision } from '../../../src/shared/policy/types'

describe('globs', () => {
  it('matches *, ?, [abc], [a-z] and [!abc]; everything else is literal', () => {
    expect(globMatches('create_*', 'create_issue')).toBe(true)
    expect(globMatches('create_*', 'create_')).toBe(true)
    expect(globMatches('create_*', 'recreate_x')).toBe(false)
    expect(globMatches('get_?', 'get_a')).toBe(true)
    expect(globMatches('get_?', 'get_ab')).toBe(false)
    expect(globMatches('[ab]*', 'beta')).toBe(true)
    expect(globMatches('[a-c]x', 'cx')).toBe(true)
    expect(globMatches('[!a]x', 'ax')).toBe(false)
    expect(globMatches('[!a]x', 'bx')).toBe(true)
    expect(globMatches('a.b*', 'a.bc')).toBe(true)
    expect(globMatches('a.b*', 'axbc')).toBe(false) // "." is literal
    expect(globMatches('(x)+', '(x)+')).toBe(true) // no glob syntax: an exact name
    expect(globMatches('*', 'anything at all')).toBe(true)
  })

  it('caches compiled globs and rejects an unclosed bracket', () => {
    expect(compileGlob('x_*')).toBe(compileGlob('x_*'))
    expect(() => compileGlob('x[')).toThrow('unclosed "[" in "x["')
    expect(globMatches('x[', 'x[')).toBe(false)
    expect(isGlob('plain_name')).toBe(false)
  })

  it('finds the exact entry first, then the most specific glob, never "*"', () => {
    const entries = [
      { pattern: '*' },
      { pattern: 'a*' },
      { pattern: 'ab*' },
      { pattern: '*c' },
      { pattern: 'abc' },
    ]
    expect(findToolEntry(entries, 'abc')?.pattern).toBe('abc')
    expect(findToolEntry(entries, 'abx')?.pattern).toBe('ab*')
    expect(findToolEntry(entries, 'axc')?.pattern).toBe('a*') // same literals and stars: the first declared
    expect(findToolEntry(entries, 'zzz')).toBeUndefined()
  })

  it('reads condition regexes as Go RE2 (Intercept) does', () => {
    expect(compileConditionRegex('(?i)^drop').test('DROP table')).toBe(true)
    expect(compileConditionRegex('(?s)a.b').test('a\nb')).toBe(true)
    expect(compileConditionRegex('a.b').test('a\nb')).toBe(false)
    expect(compileConditionRegex('^[[:digit:]]+$').test('123')).toBe(true)
    expect(compileConditionRegex('^[[:digit:]]+$').test('12a')).toBe(false)
    expect(compileConditionRegex('^(?P<user>[a-z]+)@').test('bob@x')).toBe(true)
    expect(compileConditionRegex('x(?i)abc').test('xABC')).toBe(true) // flags mid-pattern too
    expect(() => compileConditionRegex('(')).toThrow(SyntaxError)
    expect(() => compileConditionRegex('(a)\\1')).toThrow(ConditionRegexError)
    expect(() => compileConditionRegex('a(?=b)')).toThrow(/at character 2/)
  })

  it('matches hostile patterns in linear time (each took 14-57 s on RegExp)', () => {
    const input = 'a'.repeat(28) + '!'
    for (const p of ['(a|a)*$', '((a+)b?)+$', '(.*a){12}$', '^(\\w+\\s?)+$']) {
      // Under a second each on a 64 KiB input (RegExp: hours); no timing asserted, only finishing.
      expect(compileConditionRegex(p).test(input.repeat(2000).slice(0, 65_536))).toBeTypeOf(
        'boolean',
      )
    }
    expect(compileConditionRegex('(a|a)*$').test(input)).toBe(true)
    expect(compileConditionRegex('((a+)b?)+$').test(input)).toBe(false)
  })
})

describe('hide', () => {
  const policy = { hide: ['delete_*', 'logout'] }
  it('hides exact names and globs', () => {
    expect(isHidden(policy, 'logout')).toBe(true)
    expect(isHidden(policy, 'delete_repo')).toBe(true)
    expect(isHidden(policy, 'read')).toBe(false)
    expect(isHidden({ hide: ['*'] }, 'read')).toBe(true)
  })

  it('filters a tools/list page, keeping order and the items themselves', () => {
    const tools = [
      { name: 'read', extra: 1 },
      { name: 'logout' },
      { name: 'delete_x' },
      { name: 'write' },
    ]
    const kept = filterToolsList(policy, tools)
    expect(kept.map((t) => t.name)).toEqual(['read', 'write'])
    expect(kept[0]).toBe(tools[0])
  })
})

describe('exit codes and one-line descriptions', () => {
  const cases: [Decision, 0 | 1 | 2, string][] = [
    [{ kind: 'allow', reservations: [] }, 0, 'allow'],
    [
      {
        kind: 'allow',
        rule: 'ok',
        reservations: [{ kind: 'sliding', key: 'k', at: 0, windowMs: 1, amount: 1 }],
      },
      0,
      'allow (rule "ok"), counting toward 1 limit',
    ],
    [{ kind: 'deny', reason: 'no', rule: 'r' }, 1, 'deny (rule "r"): no'],
    [
      { kind: 'hidden' },
      1,
      'hidden: the policy hides this tool (the agent is told it does not exist)',
    ],
    [
      { kind: 'rate_limited', reason: 'slow down', rule: 'r', retryAfterMs: 1_500 },
      1,
      'rate_limited (rule "r"): slow down (retry in 2s)',
    ],
    [
      {
        kind: 'needs_approval',
        rule: 'ask',
        reason: 'rule "ask" requires approval',
        timeoutMs: 45_000,
        reservations: [],
      },
      2,
      'needs_approval (rule "ask"): rule "ask" requires approval (times out after 45s)',
    ],
  ]
  it.each(cases)('%j → %i', (d, code, text) => {
    expect(exitCodeFor(d)).toBe(code)
    expect(describeDecision(d)).toBe(text)
  })
})
