import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { CounterStore } from '../../../src/shared/policy/counters'
import { decide } from '../../../src/shared/policy/engine'
import { parsePolicy } from '../../../src/shared/policy/parse'
import { sharedFixture } from '../../helpers/shared-fixtures'

const DIR = sharedFixture('intercept-policies', 'test/unit/policy/fixtures.test.ts')
const FILES = DIR
  ? readdirSync(DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
  : []

describe.skipIf(!DIR)('Intercept policy templates load unchanged and keep their meaning', () => {
  it('finds all 53 templates', () => {
    expect(FILES).toHaveLength(53)
  })

  it.each(FILES)('%s', (name) => {
    const text = readFileSync(path.join(DIR as string, name), 'utf8')
    const policy = parsePolicy(text, name)
    // What the file says, read independently: the raw YAML and the generator's header comment.
    const raw = parse(text) as {
      description?: string
      default?: string
      hide?: string[]
      tools: Record<string, { rules: unknown[] }>
    }
    const header = Number(/^#\s+Tools: (\d+)$/m.exec(text)?.[1])
    expect(policy.version).toBe('1')
    expect(policy.description).toBe(raw.description)
    expect(policy.default).toBe(raw.default ?? 'allow')
    expect(policy.hide).toEqual(raw.hide ?? [])
    expect(policy.tools.map((t) => t.pattern)).toEqual(Object.keys(raw.tools))
    expect(policy.tools).toHaveLength(header)
    // Each rule list is as written (the templates ship `rules: []`); the commented-out
    // "*" rate limit at the end of each file stays a comment.
    for (const t of policy.tools)
      expect(t.rules).toHaveLength(raw.tools[t.pattern]?.rules.length ?? 0)
    expect(policy.tools.some((t) => t.pattern === '*')).toBe(false)
    const rateLimited = policy.tools
      .flatMap((t) => t.rules)
      .filter((r) => r.rateLimit || r.conditions.length > 0)
    expect(rateLimited).toHaveLength(0)
    // Allow posture: every listed tool and any unlisted one is allowed with nothing to count
    // (Intercept's meaning, with Airlock's risk floor off).
    const counters = new CounterStore()
    for (const tool of [policy.tools[0]!.pattern, 'not_in_this_policy']) {
      expect(
        decide(policy, { tool, args: {}, sessionId: 's' }, counters, 0, { riskFloor: 'off' }),
      ).toEqual({ kind: 'allow', reservations: [] })
    }
    // With the floor (the default), a critical tool the template lists with `rules: []` waits
    // for a person: `rules: []` decides nothing.
    const critical = policy.tools.find((t) => t.pattern === 'delete' || /^delete_/.test(t.pattern))
    if (critical)
      expect(
        decide(policy, { tool: critical.pattern, args: {}, sessionId: 's' }, counters, 0),
      ).toMatchObject({
        kind: 'needs_approval',
        reason: 'risk floor: critical (destructive — "delete")',
      })
  })

  it('the header of a template turns into a working default-deny allowlist when edited', () => {
    const text = readFileSync(path.join(DIR as string, 'stripe.yaml'), 'utf8').replace(
      'default: "allow"',
      'default: "deny"',
    )
    const policy = parsePolicy(text, 'stripe.yaml')
    const call = (tool: string) =>
      decide(policy, { tool, args: {}, sessionId: 's' }, new CounterStore(), 0)
    expect(call('list_customers').kind).toBe('allow')
    // A critical tool listed with `rules: []` is not decided by the policy: the floor asks.
    expect(call('create_refund')).toMatchObject({
      kind: 'needs_approval',
      reason: 'risk floor: critical (financial — "refund")',
    })
    expect(call('delete_everything')).toEqual({
      kind: 'deny',
      reason: 'tool "delete_everything" is not allowed by this policy (default: deny)',
    })
  })

  it("the uncommented global rate limit of a template's footer applies to every tool", () => {
    const text = readFileSync(path.join(DIR as string, 'stripe.yaml'), 'utf8').replace(
      `  # "*":\n  #   rules:\n  #     - name: "global rate limit"\n  #       rate_limit: 60/minute`,
      `    "*":\n      rules:\n        - name: "global rate limit"\n          rate_limit: 60/minute`,
    )
    const policy = parsePolicy(text, 'stripe.yaml')
    expect(policy.tools.at(-1)).toEqual({
      pattern: '*',
      rules: [
        {
          name: 'global rate limit',
          action: 'evaluate',
          conditions: [],
          rateLimit: { kind: 'calendar', max: 60, unit: 'minute', scope: 'global' },
        },
      ],
    })
  })
})
