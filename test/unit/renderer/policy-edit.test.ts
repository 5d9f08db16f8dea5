import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { validatePolicy } from '../../../src/shared/policy'
import {
  parseRateLimit,
  readDefault,
  readToolSetting,
  parsePolicyText,
  writeDefault,
  writeToolSetting,
  toolIssue,
  toolPath,
  UI_RULE_NAME,
} from '../../../src/renderer/src/policy-edit'

const BASE = `version: "1"
# keep this comment
default: allow
hide:
  - logout
tools:
  send_email:
    rules:
      - name: only-internal
        action: deny
        conditions:
          - path: args.to
            op: regex
            value: "@evil"
      - name: limit
        action: evaluate
        rate_limit: 5/hour
        on_deny: too many emails
`

function setting(text: string, tool: string) {
  const p = parsePolicyText(text)
  if (!p.ok) throw new Error(p.message)
  return readToolSetting(p.doc, tool)
}

describe('policy-edit', () => {
  it('reads the unconditional rule, hide and default', () => {
    expect(setting(BASE, 'send_email')).toEqual({
      action: 'default',
      rateLimit: '5/hour',
      reason: 'too many emails',
    })
    expect(setting(BASE, 'logout').action).toBe('hide')
    expect(setting(BASE, 'other')).toEqual({ action: 'default', rateLimit: '', reason: '' })
    const p = parsePolicyText(BASE)
    expect(p.ok && readDefault(p.doc)).toBe('allow')
  })

  it('sets an action on the existing unconditional rule, keeping comments and conditional rules', () => {
    const out = writeToolSetting(BASE, 'send_email', {
      action: 'require_approval',
      rateLimit: '5/hour',
      reason: 'too many emails',
    })
    expect(out).toContain('# keep this comment')
    const js = parse(out) as { tools: Record<string, { rules: Record<string, unknown>[] }> }
    expect(js.tools.send_email!.rules).toHaveLength(2)
    expect(js.tools.send_email!.rules[0]!.name).toBe('only-internal')
    // An edited rule takes the UI's name: the agent is not told a proposal's rule name.
    expect(js.tools.send_email!.rules[1]).toMatchObject({
      name: 'send_email: needs approval, at most 5/hour',
      action: 'require_approval',
      rate_limit: '5/hour',
      on_deny: 'too many emails',
    })
    expect(validatePolicy(out, 'p.yaml').ok).toBe(true)
  })

  it('adds a rule for a tool without one, and removes it again on "default"', () => {
    const out = writeToolSetting(BASE, 'echo', { action: 'deny', rateLimit: '', reason: 'no echo' })
    const js = parse(out) as { tools: Record<string, { rules: Record<string, unknown>[] }> }
    expect(js.tools.echo!.rules).toEqual([
      { name: 'echo: denied', action: 'deny', on_deny: 'no echo' },
    ])
    expect(validatePolicy(out, 'p.yaml').ok).toBe(true)
    const back = writeToolSetting(out, 'echo', { action: 'default', rateLimit: '', reason: '' })
    expect((parse(back) as { tools: Record<string, unknown> }).tools.echo).toBeUndefined()
  })

  it('hides and un-hides', () => {
    const hidden = writeToolSetting(BASE, 'echo', { action: 'hide', rateLimit: '', reason: '' })
    expect((parse(hidden) as { hide: string[] }).hide).toEqual(['logout', 'echo'])
    const shown = writeToolSetting(BASE, 'logout', { action: 'allow', rateLimit: '', reason: '' })
    const js = parse(shown) as { hide: string[]; tools: Record<string, { rules: unknown[] }> }
    expect(js.hide).toEqual([])
    expect(js.tools.logout!.rules).toEqual([{ name: 'logout: allowed', action: 'allow' }])
  })

  it('creates hide in a policy without one', () => {
    const out = writeToolSetting('version: "1"\n', 'x', {
      action: 'hide',
      rateLimit: '',
      reason: '',
    })
    expect(parse(out)).toEqual({ version: '1', hide: ['x'] })
  })

  it('keeps JSON files JSON (the seed form)', () => {
    const seed = '{"version":"1","default":"deny","hide":["logout"]}'
    const out = writeToolSetting(seed, 'echo', { action: 'allow', rateLimit: '3/10s', reason: '' })
    const js = JSON.parse(out) as { tools: Record<string, { rules: unknown[] }> }
    expect(js.tools.echo!.rules).toEqual([
      { name: 'echo: allowed, at most 3/10s', action: 'allow', rate_limit: { max: 3, window: 10 } },
    ])
    expect(validatePolicy(out, 'p.json').ok).toBe(true)
    expect(JSON.parse(writeDefault(seed, 'require_approval'))).toMatchObject({
      default: 'require_approval',
    })
  })

  it('writes an unknown rate limit as typed, so the policy check names it like the YAML editor', () => {
    const out = writeToolSetting(BASE, 'x', { action: 'allow', rateLimit: '10/min', reason: '' })
    const v = validatePolicy(out, 'policy')
    expect(v.ok).toBe(false)
    if (v.ok) return
    expect(toolIssue(v.errors, 'x')).toBe(
      'tools.x.rules[0].rate_limit: expected "N/minute|hour|day" or {max, window} (got "10/min")',
    )
    expect(toolIssue(v.errors, 'y')).toBeUndefined()
    expect(toolPath('a b')).toBe('tools["a b"]')
  })

  it('validates rate limits and refuses to edit unparseable text', () => {
    expect(parseRateLimit('10/minute')).toEqual({ ok: true, value: '10/minute' })
    expect(parseRateLimit('5/60s')).toEqual({ ok: true, value: { max: 5, window: 60 } })
    expect(parseRateLimit('ten').ok).toBe(false)
    expect(() =>
      writeToolSetting('tools: [', 'x', { action: 'allow', rateLimit: '', reason: '' }),
    ).toThrow(/line 1/)
  })

  it('scopes the tool rule to clients, and back to every client', () => {
    const out = writeToolSetting(BASE, 'echo', {
      action: 'deny',
      rateLimit: '',
      reason: '',
      clients: 'cursor, claude-code, cursor',
    })
    expect(parse(out).tools.echo.rules).toEqual([
      {
        name: 'echo: denied, for cursor, claude-code',
        action: 'deny',
        clients: ['cursor', 'claude-code'],
      },
    ])
    expect(validatePolicy(out, 'p').ok).toBe(true)
    expect(setting(out, 'echo').clients).toBe('cursor, claude-code')
    // A setting without clients leaves the scope alone; '' removes it.
    const kept = writeToolSetting(out, 'echo', { action: 'allow', rateLimit: '', reason: '' })
    expect(parse(kept).tools.echo.rules[0].clients).toEqual(['cursor', 'claude-code'])
    expect(parse(kept).tools.echo.rules[0].name).toBe('echo: allowed, for cursor, claude-code')
    const all = writeToolSetting(kept, 'echo', {
      action: 'allow',
      rateLimit: '',
      reason: '',
      clients: ' ',
    })
    expect(parse(all).tools.echo.rules[0]).toEqual({ name: 'echo: allowed', action: 'allow' })
    // A reason alone says nothing of the action: the plain UI name.
    const why = writeToolSetting(BASE, 'echo', { action: 'default', rateLimit: '', reason: 'x' })
    expect(parse(why).tools.echo.rules[0].name).toBe(`echo: ${UI_RULE_NAME}`)
  })
})
