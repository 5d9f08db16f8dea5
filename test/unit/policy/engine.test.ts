import { describe, expect, it } from 'vitest'
import { CounterStore } from '../../../src/shared/policy/counters'
import { decide } from '../../../src/shared/policy/engine'
import { REGEX_INPUT_LIMIT } from '../../../src/shared/policy/glob'
import { parsePolicy } from '../../../src/shared/policy/parse'
import type { ConditionOp, Decision, Policy } from '../../../src/shared/policy/types'
import type { ToolClass } from '../../../src/shared/risk'

/** A policy from a plain object (JSON is YAML), `version: "1"` added. */
function policy(body: Record<string, unknown>): Policy {
  return parsePolicy(JSON.stringify({ version: '1', ...body }), 'test.yaml')
}

/** A policy whose `tool` has the given rules. */
function rules(tool: string, ...list: unknown[]): Policy {
  return policy({ tools: { [tool]: { rules: list } } })
}

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0) // 12:00:00Z

/** Decides like a session that then succeeds: reservations are reserved and committed. */
function callOk(
  p: Policy,
  store: CounterStore,
  tool: string,
  args: Record<string, unknown> = {},
  now = T0,
  sessionId = 's1',
): Decision {
  const d = decide(p, { tool, args, sessionId }, store, now)
  if ((d.kind === 'allow' || d.kind === 'needs_approval') && d.reservations.length > 0)
    store.commit(store.reserve(d.reservations))
  return d
}

function once(p: Policy, tool: string, args: Record<string, unknown> = {}): Decision {
  return decide(p, { tool, args, sessionId: 's1' }, new CounterStore(), T0)
}

describe('decide: order of evaluation', () => {
  it('checks hide first, before any rule or posture', () => {
    const p = policy({
      hide: ['delete_*', 'purge'],
      tools: { delete_repo: { rules: [{ name: 'ok', action: 'allow' }] } },
    })
    expect(once(p, 'delete_repo')).toEqual({ kind: 'hidden' })
    expect(once(p, 'purge')).toEqual({ kind: 'hidden' })
    expect(once(p, 'read')).toEqual({ kind: 'allow', reservations: [] })
    expect(once(policy({ hide: ['*'] }), 'anything')).toEqual({ kind: 'hidden' })
  })

  it('with default: deny, denies an unlisted tool before the "*" rules run', () => {
    const p = policy({
      default: 'deny',
      tools: {
        read_file: { rules: [] },
        '*': { rules: [{ name: 'wild', action: 'deny', on_deny: 'wildcard says no' }] },
      },
    })
    expect(once(p, 'write_file')).toEqual({
      kind: 'deny',
      reason: 'tool "write_file" is not allowed by this policy (default: deny)',
    })
    // A listed tool is evaluated, and the wildcard rules still apply to it.
    expect(once(p, 'read_file')).toEqual({ kind: 'deny', reason: 'wildcard says no', rule: 'wild' })
  })

  it('with default: deny, allows a listed tool that no rule denies (rules: [] or passing rules)', () => {
    const p = policy({
      default: 'deny',
      tools: {
        read_file: { rules: [] },
        'list_*': null,
        cap: { rules: [{ name: 'c', conditions: [{ path: 'args.n', op: 'lt', value: 5 }] }] },
      },
    })
    expect(once(p, 'read_file')).toEqual({ kind: 'allow', reservations: [] })
    expect(once(p, 'list_repos')).toEqual({ kind: 'allow', reservations: [] })
    expect(once(p, 'cap', { n: 1 })).toEqual({ kind: 'allow', reservations: [] })
  })

  it('runs the tool rules before the "*" rules', () => {
    const p = policy({
      tools: {
        send: { rules: [{ name: 'tool rule', action: 'deny', on_deny: 'from the tool' }] },
        '*': { rules: [{ name: 'star rule', action: 'deny', on_deny: 'from the wildcard' }] },
      },
    })
    expect(once(p, 'send')).toEqual({ kind: 'deny', reason: 'from the tool', rule: 'tool rule' })
    expect(once(p, 'other')).toEqual({
      kind: 'deny',
      reason: 'from the wildcard',
      rule: 'star rule',
    })
  })

  it('short-circuits on the first deny: later rules neither run nor count', () => {
    const store = new CounterStore()
    const p = rules(
      'rm',
      { name: 'limit', rate_limit: '1/minute' },
      { name: 'block', action: 'deny' },
      { name: 'later', rate_limit: '1/minute' },
    )
    expect(callOk(p, store, 'rm')).toEqual({
      kind: 'deny',
      reason: 'denied by rule "block"',
      rule: 'block',
    })
    // Nothing was reserved, so the limit of 1 is still free (the deny rule is what stops it).
    expect(store.calendar('rl:rm:limit:g', T0)).toBe(0)
  })
})

describe('decide: rules', () => {
  it('an evaluate rule denies when a condition fails, with on_deny or a default reason', () => {
    const p = rules(
      'charge',
      {
        name: 'max single charge',
        conditions: [{ path: 'args.amount', op: 'lte', value: 50000 }],
        on_deny: 'Single charge cannot exceed $500.00',
      },
      {
        name: 'currencies',
        conditions: [{ path: 'args.currency', op: 'in', value: ['usd', 'eur'] }],
      },
    )
    expect(once(p, 'charge', { amount: 100, currency: 'usd' })).toEqual({
      kind: 'allow',
      reservations: [],
    })
    expect(once(p, 'charge', { amount: 60000, currency: 'usd' })).toEqual({
      kind: 'deny',
      reason: 'Single charge cannot exceed $500.00',
      rule: 'max single charge',
    })
    expect(once(p, 'charge', { amount: 1, currency: 'gbp' })).toEqual({
      kind: 'deny',
      reason: 'denied by rule "currencies": args.currency in ["usd","eur"] does not hold',
      rule: 'currencies',
    })
  })

  it('ANDs the conditions of a rule', () => {
    const p = rules('push', {
      name: 'safe push',
      conditions: [
        { path: 'args.branch', op: 'neq', value: 'main' },
        { path: 'args.force', op: 'neq', value: true },
      ],
    })
    expect(once(p, 'push', { branch: 'dev', force: false }).kind).toBe('allow')
    expect(once(p, 'push', { branch: 'main', force: false }).kind).toBe('deny')
    expect(once(p, 'push', { branch: 'dev', force: true }).kind).toBe('deny')
  })

  it('a deny rule with conditions denies only when all of them hold', () => {
    const p = rules('sql', {
      name: 'no drops in prod',
      action: 'deny',
      conditions: [
        { path: 'args.query', op: 'regex', value: '(?i)\\bdrop\\b' },
        { path: 'args.db', op: 'eq', value: 'prod' },
      ],
      reason: 'DROP is not allowed on prod',
    })
    expect(once(p, 'sql', { query: 'drop table x', db: 'prod' })).toEqual({
      kind: 'deny',
      reason: 'DROP is not allowed on prod',
      rule: 'no drops in prod',
    })
    expect(once(p, 'sql', { query: 'drop table x', db: 'dev' }).kind).toBe('allow')
    expect(once(p, 'sql', { query: 'select 1', db: 'prod' }).kind).toBe('allow')
  })

  it('denies a call whose argument is longer than a regex condition reads (fail closed)', () => {
    const deny = rules('sql', {
      name: 'no drops',
      action: 'deny',
      conditions: [{ path: 'args.query', op: 'regex', value: '(?i)\\bdrop\\b' }],
    })
    const allow = rules('sql', {
      name: 'selects',
      action: 'allow',
      conditions: [{ path: 'args.query', op: 'regex', value: '^select' }],
    })
    const padded = 'select 1; ' + ' '.repeat(REGEX_INPUT_LIMIT) + 'drop table x'
    for (const p of [deny, allow]) {
      expect(once(p, 'sql', { query: padded })).toEqual({
        kind: 'deny',
        reason: `args.query is ${padded.length} characters long; regex conditions match at most ${REGEX_INPUT_LIMIT} characters, so this call is denied: send a shorter value`,
      })
    }
    const atLimit = 'select ' + 'x'.repeat(REGEX_INPUT_LIMIT - 7)
    expect(once(allow, 'sql', { query: atLimit }).kind).toBe('allow')
  })

  it('takes `reason` as an alias of on_deny', () => {
    expect(once(rules('x', { name: 'r', action: 'deny', reason: 'because' }), 'x')).toEqual({
      kind: 'deny',
      reason: 'because',
      rule: 'r',
    })
  })

  it('an allow rule whose conditions hold allows at once, keeping the counts of rules already passed', () => {
    const p = policy({
      tools: {
        deploy: {
          rules: [
            { name: 'hourly', rate_limit: '10/hour' },
            {
              name: 'staging is fine',
              action: 'allow',
              conditions: [{ path: 'args.env', op: 'eq', value: 'staging' }],
            },
            { name: 'prod needs a person', action: 'require_approval' },
          ],
        },
        '*': { rules: [{ name: 'never', action: 'deny' }] },
      },
    })
    const d = once(p, 'deploy', { env: 'staging' })
    expect(d).toEqual({
      kind: 'allow',
      rule: 'staging is fine',
      reservations: [
        {
          kind: 'calendar',
          key: 'rl:deploy:hourly:g',
          windowStart: T0,
          windowEnd: T0 + 3_600_000,
          amount: 1,
        },
      ],
    })
    // Not staging: the allow rule does not apply, the approval rule does, then "*" denies.
    expect(once(p, 'deploy', { env: 'prod' })).toEqual({
      kind: 'deny',
      reason: 'denied by rule "never"',
      rule: 'never',
    })
  })

  it('an allow rule cannot cancel an approval an earlier rule asked for', () => {
    const p = rules(
      'pay',
      { name: 'ask', action: 'require_approval' },
      { name: 'fine', action: 'allow' },
    )
    expect(once(p, 'pay')).toMatchObject({ kind: 'needs_approval', rule: 'ask' })
  })

  it('a listed tool that no rule decides takes the default posture (allow)', () => {
    expect(
      once(
        rules('x', { name: 'r', conditions: [{ path: 'args.a', op: 'exists', value: false }] }),
        'x',
      ),
    ).toEqual({ kind: 'allow', reservations: [] })
  })
})

describe('decide: the eleven operators', () => {
  const cases: [ConditionOp, unknown, unknown, boolean][] = [
    ['eq', 'main', 'main', true],
    ['eq', 'dev', 'main', false],
    ['eq', 5, 5.0, true],
    ['eq', '5', 5, true], // Intercept compares by text when one side is not a number
    ['eq', true, 'true', true],
    ['eq', { a: [1] }, { a: [1] }, true],
    ['eq', null, 'null', false],
    ['neq', 'draft', 'main', true],
    ['neq', 'main', 'main', false],
    ['in', 'usd', ['usd', 'eur'], true],
    ['in', 'gbp', ['usd', 'eur'], false],
    ['in', 2, ['1', '2'], true],
    ['not_in', 'root', ['admin'], true],
    ['not_in', 'admin', ['admin'], false],
    ['lt', 99, 100, true],
    ['lt', 100, 100, false],
    ['lte', 100, 100, true],
    ['lte', 101, 100, false],
    ['gt', 1, 0, true],
    ['gt', 0, 0, false],
    ['gt', '900', 500, true], // numeric strings count as numbers
    ['gt', 'lots', 500, false],
    ['gte', 1, 1, true],
    ['gte', 0, 1, false],
    ['regex', 'feat/login', '^feat/', true],
    ['regex', 'fix/login', '^feat/', false],
    ['regex', 'FEAT/x', '(?i)^feat/', true],
    ['regex', 42, '4', false], // regex only tests strings
    ['contains', 'a test run', 'test', true],
    ['contains', 'a run', 'test', false],
    ['contains', ['a', 'b'], 'b', true],
    ['contains', ['a', 'b'], 'c', false],
    ['contains', 42, '4', false],
    ['exists', 'x', true, true],
    ['exists', null, true, false],
    ['exists', null, false, true],
  ]
  it.each(cases)('%s: %j vs %j → %s', (op, actual, value, expected) => {
    const p = rules('t', { name: 'r', conditions: [{ path: 'args.v', op, value }] })
    expect(once(p, 't', { v: actual }).kind).toBe(expected ? 'allow' : 'deny')
  })

  it('a missing argument fails every operator except exists (Intercept)', () => {
    for (const [op, value] of [
      ['eq', 1],
      ['neq', 1],
      ['in', [1]],
      ['not_in', [1]],
      ['lt', 1],
      ['gte', 1],
      ['regex', '.*'],
      ['contains', 'a'],
    ] as const) {
      expect(
        once(rules('t', { name: 'r', conditions: [{ path: 'args.v', op, value }] }), 't', {}).kind,
      ).toBe('deny')
    }
    expect(
      once(
        rules('t', { name: 'r', conditions: [{ path: 'args.v', op: 'exists', value: false }] }),
        't',
        {},
      ).kind,
    ).toBe('allow')
    expect(
      once(rules('t', { name: 'r', conditions: [{ path: 'args.v', op: 'exists' }] }), 't', {}).kind,
    ).toBe('deny')
  })

  it('reads nested arguments with dotted paths (and array indexes)', () => {
    const p = rules('t', {
      name: 'r',
      conditions: [{ path: 'args.meta.tags.0', op: 'eq', value: 'safe' }],
    })
    expect(once(p, 't', { meta: { tags: ['safe'] } }).kind).toBe('allow')
    expect(once(p, 't', { meta: 'flat' }).kind).toBe('deny')
  })
})

describe('decide: rate limits', () => {
  it('counts calendar limits per UTC minute, resetting at the boundary', () => {
    const store = new CounterStore()
    const p = rules('send', { name: 'per minute', rate_limit: '2/minute' })
    const late = T0 + 59_000 // 12:00:59Z
    expect(callOk(p, store, 'send', {}, T0).kind).toBe('allow')
    expect(callOk(p, store, 'send', {}, late).kind).toBe('allow')
    expect(callOk(p, store, 'send', {}, late + 500)).toEqual({
      kind: 'rate_limited',
      reason: 'rate limit "per minute" exceeded: 2/minute (resets at 12:01:00Z)',
      rule: 'per minute',
      retryAfterMs: 500,
    })
    // 12:01:00.000Z is a new window.
    expect(callOk(p, store, 'send', {}, T0 + 60_000)).toEqual({
      kind: 'allow',
      reservations: [
        {
          kind: 'calendar',
          key: 'rl:send:per minute:g',
          windowStart: T0 + 60_000,
          windowEnd: T0 + 120_000,
          amount: 1,
        },
      ],
    })
  })

  it('the string form is global (as in Intercept); its on_deny replaces the default reason', () => {
    const store = new CounterStore()
    const p = rules('send', { name: 'daily', rate_limit: '1/day', on_deny: 'one per day' })
    expect(callOk(p, store, 'send', {}, T0, 'a').kind).toBe('allow')
    expect(callOk(p, store, 'send', {}, T0, 'b')).toEqual({
      kind: 'rate_limited',
      reason: 'one per day',
      rule: 'daily',
      retryAfterMs: 12 * 3_600_000,
    })
  })

  it('sliding limits count per session by default, across sessions with scope: global', () => {
    const store = new CounterStore()
    const p = policy({
      tools: {
        mine: { rules: [{ name: 'burst', rate_limit: { max: 2, window: 10 } }] },
        shared: { rules: [{ name: 'burst', rate_limit: { max: 2, window: 10, scope: 'global' } }] },
      },
    })
    for (const tool of ['mine', 'shared']) {
      expect(callOk(p, store, tool, {}, T0, 'a').kind).toBe('allow')
      expect(callOk(p, store, tool, {}, T0 + 4_000, 'a').kind).toBe('allow')
    }
    expect(callOk(p, store, 'mine', {}, T0 + 5_000, 'a')).toEqual({
      kind: 'rate_limited',
      reason: 'rate limit "burst" exceeded: 2 per 10s (retry in 5s)',
      rule: 'burst',
      retryAfterMs: 5_000,
    })
    expect(callOk(p, store, 'mine', {}, T0 + 5_000, 'b').kind).toBe('allow') // another session
    expect(callOk(p, store, 'shared', {}, T0 + 5_000, 'b').kind).toBe('rate_limited') // shared by all
    // The window slides: the first call (T0) has left it 10 s later.
    expect(callOk(p, store, 'mine', {}, T0 + 10_000, 'a').kind).toBe('allow')
  })

  it('uses session-scoped keys for sliding limits', () => {
    const d = decide(
      rules('t', { name: 'b', rate_limit: { max: 5, window: 60 } }),
      { tool: 't', args: {}, sessionId: 'abc' },
      new CounterStore(),
      T0,
    )
    expect(d).toEqual({
      kind: 'allow',
      reservations: [{ kind: 'sliding', key: 'rl:t:b:s:abc', at: T0, windowMs: 60_000, amount: 1 }],
    })
  })

  it('a rolled-back call gives its quota back; a committed one keeps it', () => {
    const store = new CounterStore()
    const p = rules('send', { name: 'one', rate_limit: '1/hour' })
    const first = decide(p, { tool: 'send', args: {}, sessionId: 's' }, store, T0)
    if (first.kind !== 'allow') throw new Error('expected allow')
    store.rollback(store.reserve(first.reservations)) // the server answered with an error
    const second = decide(p, { tool: 'send', args: {}, sessionId: 's' }, store, T0)
    if (second.kind !== 'allow') throw new Error('expected allow')
    const token = store.reserve(second.reservations)
    // While reserved (the call in flight), the quota is taken.
    expect(decide(p, { tool: 'send', args: {}, sessionId: 's' }, store, T0).kind).toBe(
      'rate_limited',
    )
    store.commit(token)
    expect(decide(p, { tool: 'send', args: {}, sessionId: 's' }, store, T0).kind).toBe(
      'rate_limited',
    )
  })

  it('a rate limit on an allow or approval rule counts only when the rule applies', () => {
    const store = new CounterStore()
    const p = rules('q', {
      name: 'vip',
      action: 'allow',
      conditions: [{ path: 'args.vip', op: 'eq', value: true }],
      rate_limit: '1/minute',
    })
    expect(callOk(p, store, 'q', { vip: false }).kind).toBe('allow')
    expect(callOk(p, store, 'q', { vip: true })).toMatchObject({ kind: 'allow', rule: 'vip' })
    expect(callOk(p, store, 'q', { vip: false }).kind).toBe('allow')
    expect(callOk(p, store, 'q', { vip: true }).kind).toBe('rate_limited')
  })
})

describe('decide: state counters', () => {
  const spend = policy({
    tools: {
      create_charge: {
        rules: [
          {
            name: 'daily spend cap',
            conditions: [{ path: 'state.create_charge.daily_spend', op: 'lte', value: 1000 }],
            on_deny: 'Daily spending cap reached',
            state: { counter: 'daily_spend', window: 'day', increment_from: 'args.amount' },
          },
        ],
      },
      spend_report: {
        rules: [
          {
            name: 'only while under 500',
            conditions: [{ path: 'state.create_charge.daily_spend', op: 'lt', value: 500 }],
          },
        ],
      },
    },
  })

  it('adds the increment_from amount and limits the value the call would bring the counter to', () => {
    const store = new CounterStore()
    expect(callOk(spend, store, 'create_charge', { amount: 600 })).toEqual({
      kind: 'allow',
      reservations: [
        {
          kind: 'calendar',
          key: 'st:create_charge:daily_spend:g',
          windowStart: Date.UTC(2025, 0, 15),
          windowEnd: Date.UTC(2025, 0, 16),
          amount: 600,
        },
      ],
    })
    expect(callOk(spend, store, 'create_charge', { amount: 500 })).toEqual({
      kind: 'rate_limited',
      reason: 'Daily spending cap reached',
      rule: 'daily spend cap',
      retryAfterMs: 12 * 3_600_000,
    })
    expect(callOk(spend, store, 'create_charge', { amount: 400 }).kind).toBe('allow') // exactly 1000
    // Another tool reads the counter as it stands.
    expect(callOk(spend, store, 'spend_report')).toEqual({
      kind: 'rate_limited',
      reason:
        'limit "only while under 500" reached: daily_spend is at 1000, the limit is lt 500 per day (resets at 00:00:00Z)',
      rule: 'only while under 500',
      retryAfterMs: 12 * 3_600_000,
    })
    // The next UTC day starts from zero.
    expect(
      callOk(spend, store, 'create_charge', { amount: 1000 }, Date.UTC(2025, 0, 16)).kind,
    ).toBe('allow')
  })

  it('denies when the increment_from argument is missing, not a number or negative', () => {
    for (const args of [{}, { amount: 'ten' }, { amount: -5 }]) {
      expect(once(spend, 'create_charge', args)).toEqual({
        kind: 'deny',
        reason:
          'rule "daily spend cap" counts args.amount toward "daily_spend", so it must be a number of 0 or more',
        rule: 'daily spend cap',
      })
    }
    expect(once(spend, 'create_charge', { amount: '250' }).kind).toBe('allow')
  })

  it('counts a fixed increment, and "*" counters live in the _global scope', () => {
    const store = new CounterStore()
    const p = policy({
      tools: {
        '*': {
          rules: [
            {
              name: 'global rate limit',
              conditions: [{ path: 'state._global.calls_per_minute', op: 'lte', value: 4 }],
              state: { counter: 'calls_per_minute', window: 'minute', increment: 2 },
            },
          ],
        },
      },
    })
    expect(callOk(p, store, 'a')).toMatchObject({
      kind: 'allow',
      reservations: [{ key: 'st:_global:calls_per_minute:g', amount: 2 }],
    })
    expect(callOk(p, store, 'b').kind).toBe('allow')
    expect(callOk(p, store, 'c')).toMatchObject({ kind: 'rate_limited', retryAfterMs: 60_000 })
  })
})

describe('decide: approvals', () => {
  it('takes the timeout from the rule, else the policy, else the option, else 45 s', () => {
    const ask = { name: 'ask', action: 'require_approval' }
    const call = { tool: 'pay', args: {}, sessionId: 's' }
    const store = new CounterStore()
    const timeout = (
      p: Policy,
      opts?: { defaultApprovalTimeoutMs?: number },
    ): number | undefined => {
      const d = decide(p, call, store, T0, opts)
      return d.kind === 'needs_approval' ? d.timeoutMs : undefined
    }
    expect(
      timeout(
        policy({
          approval_timeout: 30,
          tools: { pay: { rules: [{ ...ask, approval_timeout: 10 }] } },
        }),
      ),
    ).toBe(10_000)
    expect(timeout(policy({ approval_timeout: 30, tools: { pay: { rules: [ask] } } }))).toBe(30_000)
    expect(timeout(rules('pay', ask), { defaultApprovalTimeoutMs: 20_000 })).toBe(20_000)
    expect(timeout(rules('pay', ask))).toBe(45_000)
  })

  it('a matching require_approval rule asks; later denies still win', () => {
    const p = policy({
      tools: {
        transfer: {
          rules: [
            {
              name: 'big transfers',
              action: 'require_approval',
              conditions: [{ path: 'args.amount', op: 'gt', value: 100 }],
            },
            { name: 'hourly', rate_limit: '5/hour' },
          ],
        },
        '*': {
          rules: [
            {
              name: 'frozen',
              action: 'deny',
              conditions: [{ path: 'args.account', op: 'eq', value: 'frozen' }],
            },
          ],
        },
      },
    })
    expect(once(p, 'transfer', { amount: 500 })).toEqual({
      kind: 'needs_approval',
      rule: 'big transfers',
      reason: 'rule "big transfers" requires approval',
      timeoutMs: 45_000,
      reservations: [
        {
          kind: 'calendar',
          key: 'rl:transfer:hourly:g',
          windowStart: T0,
          windowEnd: T0 + 3_600_000,
          amount: 1,
        },
      ],
    })
    expect(once(p, 'transfer', { amount: 5 }).kind).toBe('allow')
    expect(once(p, 'transfer', { amount: 500, account: 'frozen' })).toMatchObject({
      kind: 'deny',
      rule: 'frozen',
    })
  })

  it('default: require_approval asks for unlisted tools; a listed tool is decided by its own rules', () => {
    const p = policy({
      default: 'require_approval',
      approval_timeout: 15,
      tools: { read: { rules: [] }, safe: { rules: [{ name: 'ok', action: 'allow' }] } },
    })
    const asked = {
      kind: 'needs_approval',
      reason: 'this policy requires approval (default: require_approval)',
      timeoutMs: 15_000,
      reservations: [],
    }
    expect(once(p, 'read')).toEqual({ kind: 'allow', reservations: [] })
    expect(once(p, 'unlisted')).toEqual(asked)
    expect(once(p, 'safe')).toEqual({ kind: 'allow', rule: 'ok', reservations: [] })
  })
})

describe('decide: tool globs', () => {
  const p = policy({
    default: 'deny',
    tools: {
      '*_issue': { rules: [{ name: 'suffix', action: 'deny', on_deny: 'suffix' }] },
      'create_*': { rules: [{ name: 'prefix', action: 'deny', on_deny: 'prefix' }] },
      create_issue: { rules: [{ name: 'exact', action: 'deny', on_deny: 'exact' }] },
      'get_?': { rules: [] },
      'list_[ab]*': { rules: [] },
    },
  })

  it('prefers the exact name, then the most specific glob', () => {
    expect(once(p, 'create_issue')).toMatchObject({ reason: 'exact' })
    expect(once(p, 'create_comment_issue')).toMatchObject({ reason: 'prefix' }) // "create_" beats "_issue"
    expect(once(p, 'close_issue')).toMatchObject({ reason: 'suffix' })
  })

  it('a glob entry counts as listed for default: deny', () => {
    expect(once(p, 'get_x').kind).toBe('allow')
    expect(once(p, 'get_xy').kind).toBe('deny')
    expect(once(p, 'list_apples').kind).toBe('allow')
    expect(once(p, 'list_cherries')).toMatchObject({
      reason: 'tool "list_cherries" is not allowed by this policy (default: deny)',
    })
  })

  it('counts a glob entry’s limit once for all the tools it matches', () => {
    const store = new CounterStore()
    const g = rules('create_*', { name: 'creations', rate_limit: '1/minute' })
    expect(callOk(g, store, 'create_issue').kind).toBe('allow')
    expect(callOk(g, store, 'create_pr').kind).toBe('rate_limited')
  })
})

describe('decide: Intercept documentation example (GitHub)', () => {
  const p = parsePolicy(
    `version: "1"
description: "GitHub MCP server policies"
hide:
  - transfer_repository
tools:
  create_issue:
    rules:
      - name: "hourly issue limit"
        rate_limit: 5/hour
        on_deny: "Hourly limit of 5 new issues reached"
  delete_repository:
    rules:
      - name: "block repo deletion"
        action: "deny"
        on_deny: "Repository deletion is not permitted via AI agents"
  "*":
    rules:
      - name: "global rate limit"
        rate_limit: 60/minute
`,
    'github.yaml',
  )

  it('behaves as documented', () => {
    const store = new CounterStore()
    expect(callOk(p, store, 'transfer_repository')).toEqual({ kind: 'hidden' })
    expect(callOk(p, store, 'delete_repository')).toEqual({
      kind: 'deny',
      reason: 'Repository deletion is not permitted via AI agents',
      rule: 'block repo deletion',
    })
    for (let i = 0; i < 5; i++)
      expect(callOk(p, store, 'create_issue', {}, T0 + i).kind).toBe('allow')
    expect(callOk(p, store, 'create_issue', {}, T0 + 10)).toMatchObject({
      kind: 'rate_limited',
      reason: 'Hourly limit of 5 new issues reached',
    })
    // Every allowed call, of any tool, also counted toward the global limit.
    expect(store.calendar('rl:*:global rate limit:g', T0)).toBe(5)
  })
})

describe('decide: the risk floor (safe by default)', () => {
  const floorAsk = (reason: string): Record<string, unknown> => ({
    kind: 'needs_approval',
    reason,
    timeoutMs: 45_000,
    reservations: [],
  })
  const LOGOUT = 'risk floor: critical (auth — "logout")'
  const at = (p: Policy, tool: string, floor?: 'critical' | 'high' | 'off'): Decision =>
    decide(
      p,
      { tool, args: {}, sessionId: 's1' },
      new CounterStore(),
      T0,
      floor ? { riskFloor: floor } : {},
    )

  it('asks for a critical tool with no policy, a silent policy, or default: allow', () => {
    expect(at(policy({}), 'logout')).toMatchObject(floorAsk(LOGOUT))
    expect(at(policy({}), 'logout')).toMatchObject({
      floor: { category: 'auth', risk: 'critical' },
    })
    const silent = policy({ default: 'allow', tools: { send_message: { rules: [] } } })
    expect(at(silent, 'logout')).toMatchObject(floorAsk(LOGOUT))
    expect(at(silent, 'delete_chat')).toMatchObject(
      floorAsk('risk floor: critical (destructive — "delete")'),
    )
    expect(at(silent, 'transfer')).toMatchObject(
      floorAsk('risk floor: critical (financial — "transfer")'),
    )
    expect(at(silent, 'get_messages')).toEqual({ kind: 'allow', reservations: [] })
  })

  it('a listed tool with rules: [] is not decided: the floor asks', () => {
    expect(at(policy({ tools: { logout: { rules: [] } } }), 'logout')).toMatchObject(
      floorAsk(LOGOUT),
    )
  })

  it('a rule of the tool’s own entry (name or glob) that applies decides it', () => {
    const allow = rules('logout', { name: 'ok', action: 'allow' })
    expect(at(allow, 'logout')).toEqual({ kind: 'allow', rule: 'ok', reservations: [] })
    const evaluate = rules('transfer', {
      name: 'small',
      conditions: [{ path: 'args.amount', op: 'lte', value: 100 }],
    })
    expect(
      decide(
        evaluate,
        { tool: 'transfer', args: { amount: 5 }, sessionId: 's1' },
        new CounterStore(),
        T0,
      ),
    ).toEqual({ kind: 'allow', reservations: [] })
    const glob = policy({ tools: { 'delete_*': { rules: [{ name: 'fine', action: 'allow' }] } } })
    expect(at(glob, 'delete_chat')).toEqual({ kind: 'allow', rule: 'fine', reservations: [] })
    const denied = rules('logout', { name: 'never', action: 'deny' })
    expect(at(denied, 'logout')).toMatchObject({ kind: 'deny', rule: 'never' })
  })

  it('a rule that does not apply, or a "*" rule, does not decide the tool', () => {
    const conditional = rules('logout', {
      name: 'only-alice',
      action: 'allow',
      conditions: [{ path: 'args.user', op: 'eq', value: 'alice' }],
    })
    expect(at(conditional, 'logout')).toMatchObject(floorAsk(LOGOUT))
    const star = policy({ tools: { '*': { rules: [{ name: 'all', action: 'allow' }] } } })
    expect(at(star, 'logout')).toMatchObject(floorAsk(LOGOUT))
  })

  it('never weakens a policy: hide, default: deny and the policy’s own approvals stand', () => {
    expect(at(policy({ hide: ['logout'] }), 'logout')).toEqual({ kind: 'hidden' })
    expect(at(policy({ default: 'deny' }), 'logout')).toMatchObject({ kind: 'deny' })
    expect(at(policy({ default: 'deny' }), 'logout', 'off')).toMatchObject({ kind: 'deny' })
    const asks = rules('logout', { name: 'ask', action: 'require_approval' })
    expect(at(asks, 'logout', 'off')).toMatchObject({ kind: 'needs_approval', rule: 'ask' })
    expect(at(policy({ default: 'require_approval' }), 'get_x', 'off')).toMatchObject({
      kind: 'needs_approval',
    })
  })

  it('riskFloor off leaves every tool to the policy; high guards high-risk tools too', () => {
    expect(at(policy({}), 'logout', 'off')).toEqual({ kind: 'allow', reservations: [] })
    expect(at(policy({}), 'send_message', 'critical')).toEqual({ kind: 'allow', reservations: [] })
    expect(at(policy({}), 'send_message', 'high')).toMatchObject(
      floorAsk('risk floor: high (communication — "send")'),
    )
    expect(at(policy({}), 'logout', 'high')).toMatchObject(floorAsk(LOGOUT))
    expect(at(policy({}), 'create_issue', 'high')).toEqual({ kind: 'allow', reservations: [] })
  })

  it('takes the class the gateway knows, never lower than the name says', () => {
    const known = (tool: string, risk: ToolClass): Decision =>
      decide(policy({}), { tool, args: {}, sessionId: 's1', risk }, new CounterStore(), T0)
    expect(
      known('frobnicate', { category: 'destructive', risk: 'critical', because: 'Clear all' }),
    ).toMatchObject(floorAsk('risk floor: critical (destructive — "Clear all")'))
    // A server that lists `logout` as a harmless read does not lower it.
    expect(known('logout', { category: 'read', risk: 'low' })).toMatchObject(floorAsk(LOGOUT))
  })

  it('uses the policy’s approval timeout for the floor’s approvals', () => {
    expect(at(policy({ approval_timeout: 20 }), 'logout')).toMatchObject({ timeoutMs: 20_000 })
  })

  it('default: require_approval decides a listed tool by its own rules', () => {
    const p = policy({
      default: 'require_approval',
      tools: { get_x: { rules: [] }, logout: { rules: [] } },
    })
    expect(at(p, 'get_x')).toEqual({ kind: 'allow', reservations: [] })
    expect(at(p, 'logout')).toMatchObject(floorAsk(LOGOUT))
    expect(at(p, 'other')).toMatchObject({
      kind: 'needs_approval',
      reason: 'this policy requires approval (default: require_approval)',
    })
  })
})
