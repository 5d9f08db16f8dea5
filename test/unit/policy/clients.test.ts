/**
 * Per-client rules (Airlock's addition to the Intercept format): `client.name` / `client.version`
 * condition paths and the rule-level `clients: [names]` shorthand, parsed and decided.
 */
import { describe, expect, it } from 'vitest'
import { CounterStore } from '../../../src/shared/policy/counters'
import { decide } from '../../../src/shared/policy/engine'
import { parsePolicy, validatePolicy } from '../../../src/shared/policy/parse'
import type { ClientInfo, Decision, Policy } from '../../../src/shared/policy/types'

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0)

function policy(body: Record<string, unknown>): Policy {
  return parsePolicy(JSON.stringify({ version: '1', ...body }), 'p.yaml')
}

function call(p: Policy, tool: string, client?: ClientInfo): Decision {
  return decide(
    p,
    { tool, args: {}, sessionId: 's', ...(client ? { client } : {}) },
    new CounterStore(),
    T0,
    {
      riskFloor: 'off',
    },
  )
}

describe('clients: [names]', () => {
  const p = policy({
    default: 'allow',
    tools: {
      echo: {
        rules: [
          { name: 'only cursor', action: 'deny', clients: ['cursor'], on_deny: 'not from cursor' },
        ],
      },
    },
  })

  it('applies to the named clients only', () => {
    expect(call(p, 'echo', { name: 'cursor', version: '1.0' })).toMatchObject({
      kind: 'deny',
      reason: 'not from cursor',
      rule: 'only cursor',
    })
    expect(call(p, 'echo', { name: 'claude-code' })).toMatchObject({ kind: 'allow' })
    // An unknown client is none of the named ones.
    expect(call(p, 'echo')).toMatchObject({ kind: 'allow' })
  })

  it('an allow rule scoped to one client, then a deny for the rest', () => {
    const q = policy({
      default: 'allow',
      tools: {
        echo: {
          rules: [
            { name: 'trusted', action: 'allow', clients: ['a', 'b'] },
            { name: 'others', action: 'deny' },
          ],
        },
      },
    })
    expect(call(q, 'echo', { name: 'b' })).toMatchObject({ kind: 'allow', rule: 'trusted' })
    expect(call(q, 'echo', { name: 'c' })).toMatchObject({ kind: 'deny', rule: 'others' })
  })

  it('a skipped scoped rule does not count as the policy deciding the tool (the risk floor still asks)', () => {
    const q = policy({
      tools: {
        delete_everything: {
          rules: [{ name: 'ask a', action: 'require_approval', clients: ['a'] }],
        },
      },
    })
    const d = decide(
      q,
      { tool: 'delete_everything', args: {}, sessionId: 's', client: { name: 'b' } },
      new CounterStore(),
      T0,
    )
    expect(d).toMatchObject({ kind: 'needs_approval', floor: { risk: 'critical' } })
  })
})

describe('client.name / client.version conditions', () => {
  it('compare like any other value', () => {
    const p = policy({
      tools: {
        echo: {
          rules: [
            {
              name: 'new clients only',
              conditions: [
                { path: 'client.name', op: 'in', value: ['inspector', 'cursor'] },
                { path: 'client.version', op: 'regex', value: '^2\\.' },
              ],
            },
          ],
        },
      },
    })
    expect(call(p, 'echo', { name: 'cursor', version: '2.1.0' })).toMatchObject({ kind: 'allow' })
    expect(call(p, 'echo', { name: 'cursor', version: '1.9' })).toMatchObject({
      kind: 'deny',
      reason: 'denied by rule "new clients only": client.version regex "^2\\\\." does not hold',
    })
    // No version given: the condition does not hold (a missing value fails every op but exists).
    expect(call(p, 'echo', { name: 'cursor' })).toMatchObject({ kind: 'deny' })
  })

  it('exists: false matches a client that gave no version', () => {
    const p = policy({
      tools: {
        echo: {
          rules: [
            {
              name: 'versionless',
              action: 'deny',
              conditions: [{ path: 'client.version', op: 'exists', value: false }],
            },
          ],
        },
      },
    })
    expect(call(p, 'echo', { name: 'x' })).toMatchObject({ kind: 'deny', rule: 'versionless' })
    expect(call(p, 'echo', { name: 'x', version: '1' })).toMatchObject({ kind: 'allow' })
  })
})

describe('validation', () => {
  const issues = (rule: Record<string, unknown>): string[] => {
    const r = validatePolicy(
      JSON.stringify({ version: '1', tools: { echo: { rules: [rule] } } }),
      'p.yaml',
    )
    return r.ok ? [] : r.errors.map((e) => e.message)
  }

  it('names what is wrong with clients', () => {
    expect(issues({ name: 'r', action: 'deny', clients: 'cursor' })).toEqual([
      'p.yaml: tools.echo.rules[0].clients: expected a list of client names as their clientInfo.name gives them, e.g. ["claude-code", "cursor"] (got "cursor")',
    ])
    expect(issues({ name: 'r', action: 'deny', clients: [] })[0]).toMatch(/got an empty list/)
    expect(issues({ name: 'r', action: 'deny', clients: ['a', 7] })).toEqual([
      'p.yaml: tools.echo.rules[0].clients[1]: expected a client name, a non-empty string (got 7)',
    ])
    expect(issues({ name: 'r', action: 'deny', clients: ['a', 'a'] })[0]).toMatch(/"a" is repeated/)
  })

  it('names the client paths among the accepted ones', () => {
    expect(
      issues({ name: 'r', conditions: [{ path: 'client.id', op: 'eq', value: 'x' }] }),
    ).toEqual([
      'p.yaml: tools.echo.rules[0].conditions[0].path: expected "args.<name>", "state.<counter>", "client.name" or "client.version" (got "client.id")',
    ])
  })

  it('an Intercept file without the additions loads unchanged', () => {
    const p = policy({
      default: 'deny',
      hide: ['logout'],
      tools: { echo: { rules: [{ name: 'x', action: 'deny' }] } },
    })
    expect(p.tools[0]?.rules[0]).toEqual({ name: 'x', action: 'deny', conditions: [] })
  })
})
