import { describe, expect, it } from 'vitest'
import { PolicyError } from '../../../src/shared/policy/errors'
import { parsePolicy, validatePolicy } from '../../../src/shared/policy/parse'

const FILE = 'policy.yaml'

/** A policy with one tool, `send_email`, holding the given rules (JSON is YAML). */
function withRules(...rules: unknown[]): string {
  return JSON.stringify({ version: '1', tools: { send_email: { rules } } })
}

/** Every message `validatePolicy` reports for the text. */
function messages(text: string): string[] {
  const r = validatePolicy(text, FILE)
  return r.ok ? [] : r.errors.map((e) => e.message)
}

const R = `${FILE}: tools.send_email.rules[0]`

describe('parsePolicy: valid input', () => {
  it('accepts the seed form and fills the defaults', () => {
    expect(parsePolicy('{"version":"1","default":"deny","hide":["logout"]}', FILE)).toEqual({
      version: '1',
      default: 'deny',
      hide: ['logout'],
      tools: [],
    })
  })

  it('accepts version as the number 1 and defaults the posture to allow', () => {
    expect(parsePolicy('version: 1', FILE)).toEqual({
      version: '1',
      default: 'allow',
      hide: [],
      tools: [],
    })
  })

  it('reads every field of the format', () => {
    const policy = parsePolicy(
      `version: "1"
description: "mail policy"
default: require_approval
approval_timeout: 30
hide: ["*_admin", delete_everything]
tools:
  send_email:
    rules:
      - name: "no external"
        action: deny
        conditions:
          - path: args.to
            op: regex
            value: "@[^@]*[^m]$"
        reason: "only example.com"
      - name: "hourly"
        rate_limit: 5/hours
      - name: "burst"
        rate_limit: {max: 3, window: 10}
      - name: "burst global"
        rate_limit: {max: 100, window: 60, scope: global}
      - name: "spend"
        conditions:
          - {path: state.spend, op: lte, value: 1000}
        state: {counter: spend, window: day, increment_from: args.amount}
      - name: "ask"
        action: require_approval
        approval_timeout: 20
      - name: "trusted"
        action: allow
        conditions:
          - {path: args.to, op: exists}
  read_*:
  list_things:
    rules:
  "*":
    rules: []
`,
      FILE,
    )
    expect(policy.description).toBe('mail policy')
    expect(policy.default).toBe('require_approval')
    expect(policy.approvalTimeoutSeconds).toBe(30)
    expect(policy.hide).toEqual(['*_admin', 'delete_everything'])
    expect(policy.tools.map((t) => t.pattern)).toEqual(['send_email', 'read_*', 'list_things', '*'])
    expect(policy.tools.slice(1).every((t) => t.rules.length === 0)).toBe(true)
    const [deny, hourly, burst, burstGlobal, spend, ask, trusted] = policy.tools[0]!.rules
    expect(deny).toEqual({
      name: 'no external',
      action: 'deny',
      conditions: [{ path: 'args.to', op: 'regex', value: '@[^@]*[^m]$' }],
      onDeny: 'only example.com',
    })
    expect(hourly).toEqual({
      name: 'hourly',
      action: 'evaluate',
      conditions: [],
      rateLimit: { kind: 'calendar', max: 5, unit: 'hour', scope: 'global' },
    })
    expect(burst?.rateLimit).toEqual({
      kind: 'sliding',
      max: 3,
      windowSeconds: 10,
      scope: 'session',
    })
    expect(burstGlobal?.rateLimit).toEqual({
      kind: 'sliding',
      max: 100,
      windowSeconds: 60,
      scope: 'global',
    })
    expect(spend?.state).toEqual({
      counter: 'spend',
      window: 'day',
      increment: 1,
      incrementFrom: 'args.amount',
    })
    expect(ask).toEqual({
      name: 'ask',
      action: 'require_approval',
      conditions: [],
      approvalTimeoutSeconds: 20,
    })
    expect(trusted?.conditions).toEqual([{ path: 'args.to', op: 'exists', value: true }])
  })

  it('accepts every calendar unit, singular and plural, with spaces', () => {
    for (const [text, unit] of [
      ['1/minute', 'minute'],
      ['2/minutes', 'minute'],
      ['3 / hour', 'hour'],
      ['4/days', 'day'],
    ] as const) {
      const rule = parsePolicy(withRules({ name: 'r', rate_limit: text }), FILE).tools[0]!.rules[0]
      expect(rule?.rateLimit).toMatchObject({ kind: 'calendar', unit })
    }
  })

  it('accepts Intercept state paths with an explicit scope, including _global for "*"', () => {
    const policy = parsePolicy(
      JSON.stringify({
        version: '1',
        tools: {
          create_issue: {
            rules: [
              {
                name: 'hourly',
                conditions: [{ path: 'state.create_issue.hourly_count', op: 'lte', value: 5 }],
                state: { counter: 'hourly_count', window: 'hour' },
              },
            ],
          },
          '*': {
            rules: [
              {
                name: 'global',
                conditions: [{ path: 'state._global.calls', op: 'lte', value: 60 }],
                state: { counter: 'calls', window: 'minute' },
              },
            ],
          },
          other: {
            rules: [
              { name: 'peek', conditions: [{ path: 'state._global.calls', op: 'lt', value: 10 }] },
            ],
          },
        },
      }),
      FILE,
    )
    expect(policy.tools).toHaveLength(3)
  })
})

describe('server_requests', () => {
  it('reads each kind; a kind left out (and an Intercept file without the key) allows', () => {
    expect(
      parsePolicy(
        'version: "1"\nserver_requests:\n  sampling: deny\n  elicitation: require_approval\n',
        FILE,
      ).serverRequests,
    ).toEqual({ sampling: 'deny', elicitation: 'require_approval' })
    expect(parsePolicy('version: "1"', FILE).serverRequests).toBeUndefined()
  })

  it('names a bad value, an unknown kind and a non-mapping with what is allowed', () => {
    expect(messages('version: "1"\nserver_requests:\n  sampling: ask\n  tools: deny\n')).toEqual([
      `${FILE}: server_requests.tools: expected one of the keys sampling, elicitation, roots ("tools" is not a policy key)`,
      `${FILE}: server_requests.sampling: expected one of "allow", "deny", "require_approval" (got "ask")`,
    ])
    expect(messages('version: "1"\nserver_requests: deny\n')).toEqual([
      `${FILE}: server_requests: expected a mapping of sampling, elicitation, roots to allow | deny | require_approval (got "deny")`,
    ])
  })
})

describe('parsePolicy: errors name the file, the path and what was expected', () => {
  it('throws a PolicyError with code, file, path and all issues', () => {
    let err: unknown
    try {
      parsePolicy('version: "2"\ndefault: maybe\n', FILE)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PolicyError)
    const pe = err as PolicyError
    expect(pe.name).toBe('PolicyError')
    expect(pe.code).toBe('POLICY_INVALID')
    expect(pe.message).toBe(`${FILE}: version: expected "1" (got "2")`)
    expect([pe.file, pe.path, pe.line, pe.column]).toEqual([FILE, 'version', 1, 1])
    expect(pe.issues.map((i) => i.message)).toEqual([
      `${FILE}: version: expected "1" (got "2")`,
      `${FILE}: default: expected one of "allow", "deny", "require_approval" (got "maybe")`,
    ])
  })

  it('reports broken YAML with its position and the parser error as cause', () => {
    let err: unknown
    try {
      parsePolicy('version: "1"\nhide: [a, b\n', FILE)
    } catch (e) {
      err = e
    }
    const pe = err as PolicyError
    expect(pe.message).toMatch(/^policy\.yaml: expected valid YAML or JSON \(.+\)$/)
    expect(pe.line).toBe(3)
    expect(pe.cause).toBeInstanceOf(Error)
  })

  it('rejects duplicate keys, pointing at the repeated one', () => {
    const r = validatePolicy(
      'version: "1"\ntools:\n  a:\n    rules: []\n  a:\n    rules: []\n',
      FILE,
    )
    expect(r).toEqual({
      ok: false,
      errors: [
        {
          file: FILE,
          path: 'tools.a',
          expected: 'each key once ("a" is repeated)',
          message: `${FILE}: tools.a: expected each key once ("a" is repeated)`,
          line: 5,
          column: 3,
        },
      ],
    })
  })

  it('rejects duplicate keys in JSON too', () => {
    expect(messages('{"version": "1", "version": "1"}')).toEqual([
      `${FILE}: version: expected each key once ("version" is repeated)`,
    ])
  })

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'
        .split('')
        .map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n')
    const [message] = messages(bomb)
    expect(message).toMatch(/^policy\.yaml: expected a policy document \(.*alias.*\)$/i)
  })

  it('rejects a document that is not a mapping', () => {
    expect(messages('')).toEqual([
      `${FILE}: expected a mapping with at least version: "1" (got an empty document)`,
    ])
    expect(messages('[1, 2]')).toEqual([
      `${FILE}: expected a mapping with at least version: "1" (got [1,2])`,
    ])
  })

  it('rejects a missing version and bad top-level fields', () => {
    expect(
      messages('description: 5\napproval_timeout: 0\nhide: logout\ntools: [a]\nextra: 1'),
    ).toEqual([
      `${FILE}: extra: expected one of the keys version, description, default, hide, approval_timeout, server_requests, tools ("extra" is not a policy key)`,
      `${FILE}: version: expected "1"`,
      `${FILE}: description: expected a string (got 5)`,
      `${FILE}: approval_timeout: expected a positive number of seconds (got 0)`,
      `${FILE}: hide: expected a list of tool names or globs (got "logout")`,
      `${FILE}: tools: expected a mapping of tool names (or globs) to { rules: [...] } (got ["a"])`,
    ])
  })

  it('rejects bad hide entries', () => {
    expect(messages(JSON.stringify({ version: '1', hide: ['a', '', 'a', 'x[', 3] }))).toEqual([
      `${FILE}: hide[1]: expected a tool name or glob (got "")`,
      `${FILE}: hide[2]: expected each name once ("a" is repeated)`,
      `${FILE}: hide[3]: expected a tool name or glob (unclosed "[" in "x[")`,
      `${FILE}: hide[4]: expected a tool name or glob (got 3)`,
    ])
  })

  it('rejects bad tool entries', () => {
    expect(
      messages(
        JSON.stringify({
          version: '1',
          tools: { '': {}, 'a[': {}, b: 'x', c: { rule: [] }, d: { rules: {} } },
        }),
      ),
    ).toEqual([
      `${FILE}: tools[""]: expected a tool name or glob, not an empty key`,
      `${FILE}: tools["a["]: expected a tool name or glob (unclosed "[" in "a[")`,
      `${FILE}: tools.b: expected { rules: [...] } (got "x")`,
      `${FILE}: tools.c.rule: expected one of the keys rules ("rule" is not a policy key)`,
      `${FILE}: tools.d.rules: expected a list of rules (got {})`,
    ])
  })

  it('rejects unknown rule keys, naming the key and the allowed ones', () => {
    expect(messages(withRules({ name: 'r', rate_limit: '1/day', limit: 3 }))).toEqual([
      `${R}.limit: expected one of the keys name, action, conditions, on_deny, reason, rate_limit, state, approval_timeout, clients ("limit" is not a policy key)`,
    ])
  })

  it('rejects rules without a usable name, duplicate names and non-objects', () => {
    expect(
      messages(
        withRules(
          { rate_limit: '1/day' },
          { name: ' ', rate_limit: '1/day' },
          { name: 'a', rate_limit: '1/day' },
          { name: 'a', rate_limit: '1/day' },
          'x',
        ),
      ),
    ).toEqual([
      `${R}.name: expected a rule name`,
      `${FILE}: tools.send_email.rules[1].name: expected a non-empty rule name (got " ")`,
      `${FILE}: tools.send_email.rules[3].name: expected a rule name unique within this tool ("a" is repeated)`,
      `${FILE}: tools.send_email.rules[4]: expected a rule { name, action?, conditions?, on_deny?, rate_limit?, state? } (got "x")`,
    ])
  })

  it('rejects an unknown action and an evaluate rule that checks nothing', () => {
    expect(messages(withRules({ name: 'r', action: 'block' }))).toEqual([
      `${R}.action: expected one of "evaluate", "deny", "allow", "require_approval" (got "block")`,
    ])
    expect(messages(withRules({ name: 'r' }))).toEqual([
      `${R}: expected conditions, rate_limit or state on an "evaluate" rule (without them it checks nothing)`,
    ])
  })

  it('rejects rate_limit or state on a deny rule', () => {
    expect(messages(withRules({ name: 'r', action: 'deny', rate_limit: '1/day' }))).toEqual([
      `${R}.rate_limit: expected no rate_limit or state on a rule with action: deny (it never lets a call through to count)`,
    ])
    expect(
      messages(withRules({ name: 'r', action: 'deny', state: { counter: 'c', window: 'day' } })),
    ).toEqual([
      `${R}.state: expected no rate_limit or state on a rule with action: deny (it never lets a call through to count)`,
    ])
  })

  it('rejects on_deny together with its alias reason, and non-string messages', () => {
    expect(messages(withRules({ name: 'r', action: 'deny', on_deny: 'a', reason: 'b' }))).toEqual([
      `${R}.reason: expected either on_deny or its alias reason, not both`,
    ])
    expect(messages(withRules({ name: 'r', action: 'deny', on_deny: 1 }))).toEqual([
      `${R}.on_deny: expected a string (got 1)`,
    ])
  })

  it('rejects approval_timeout outside require_approval rules, and bad values', () => {
    expect(messages(withRules({ name: 'r', action: 'deny', approval_timeout: 5 }))).toEqual([
      `${R}.approval_timeout: expected approval_timeout only on a rule with action: require_approval`,
    ])
    expect(
      messages(withRules({ name: 'r', action: 'require_approval', approval_timeout: 'soon' })),
    ).toEqual([`${R}.approval_timeout: expected a positive number of seconds (got "soon")`])
  })

  it('rejects malformed rate limits', () => {
    const expected = (got: string): string[] => [
      `${R}.rate_limit: expected "N/minute|hour|day" or {max, window} (got ${got})`,
    ]
    expect(messages(withRules({ name: 'r', rate_limit: '5/week' }))).toEqual(expected('"5/week"'))
    expect(messages(withRules({ name: 'r', rate_limit: '5/min' }))).toEqual(expected('"5/min"'))
    expect(messages(withRules({ name: 'r', rate_limit: '5/second' }))).toEqual(
      expected('"5/second"'),
    )
    expect(messages(withRules({ name: 'r', rate_limit: '0/hour' }))).toEqual(expected('"0/hour"'))
    expect(messages(withRules({ name: 'r', rate_limit: 'many' }))).toEqual(expected('"many"'))
    expect(messages(withRules({ name: 'r', rate_limit: 5 }))).toEqual(expected('5'))
    expect(
      messages(
        withRules({ name: 'r', rate_limit: { max: 1.5, window: 0, scope: 'world', per: 1 } }),
      ),
    ).toEqual([
      `${R}.rate_limit.per: expected one of the keys max, window, scope ("per" is not a policy key)`,
      `${R}.rate_limit.max: expected a positive whole number of calls (got 1.5)`,
      `${R}.rate_limit.window: expected a positive number of seconds (got 0)`,
      `${R}.rate_limit.scope: expected one of "session", "global" (got "world")`,
    ])
    expect(messages(withRules({ name: 'r', rate_limit: { window: 'hour' } }))).toEqual([
      `${R}.rate_limit.max: expected a positive whole number of calls (got nothing)`,
      `${R}.rate_limit.window: expected a positive number of seconds (got "hour")`,
    ])
  })

  it('rejects malformed state blocks', () => {
    expect(messages(withRules({ name: 'r', state: 'count' }))).toEqual([
      `${R}.state: expected {counter, window: minute|hour|day, increment?, increment_from?} (got "count")`,
    ])
    expect(
      messages(
        withRules({
          name: 'r',
          state: {
            counter: 'a.b',
            window: 'week',
            increment: 0,
            increment_from: 'amount',
            reset: 1,
          },
        }),
      ),
    ).toEqual([
      `${R}.state.reset: expected one of the keys counter, window, increment, increment_from ("reset" is not a policy key)`,
      `${R}.state.counter: expected a counter name of letters, digits, "_" or "-" (got "a.b")`,
      `${R}.state.window: expected one of "minute", "hour", "day" (got "week")`,
      `${R}.state.increment: expected a positive number (got 0)`,
      `${R}.state.increment_from: expected "args.<name>" (got "amount")`,
    ])
    expect(messages(withRules({ name: 'r', state: { window: 'day' } }))).toEqual([
      `${R}.state.counter: expected a counter name of letters, digits, "_" or "-" (got nothing)`,
    ])
  })

  it('rejects a counter defined twice on one tool, and state paths without a state block', () => {
    const state = { counter: 'c', window: 'day' }
    expect(messages(withRules({ name: 'a', state }, { name: 'b', state }))).toEqual([
      `${FILE}: tools.send_email.rules[1].state.counter: expected a counter name unique within this tool ("c" is also used by rules[0])`,
    ])
    expect(
      messages(withRules({ name: 'a', conditions: [{ path: 'state.c', op: 'lt', value: 3 }] })),
    ).toEqual([
      `${R}.conditions[0].path: expected a counter defined by a rule's state block (no rule of "send_email" has state.counter "c")`,
    ])
    expect(
      messages(
        withRules({ name: 'a', conditions: [{ path: 'state._global.c', op: 'lt', value: 3 }] }),
      ),
    ).toEqual([
      `${R}.conditions[0].path: expected a counter defined by a rule's state block (no rule of "*" has state.counter "c")`,
    ])
  })

  it('rejects malformed conditions', () => {
    const cond = (c: unknown): string[] => messages(withRules({ name: 'r', conditions: [c] }))
    const C = `${R}.conditions[0]`
    expect(messages(withRules({ name: 'r', conditions: { path: 'args.a' } }))).toEqual([
      `${R}.conditions: expected a list of conditions [{path, op, value}] (got {"path":"args.a"})`,
    ])
    expect(cond('args.a == 1')).toEqual([
      `${C}: expected a condition {path, op, value} (got "args.a == 1")`,
    ])
    expect(cond({ path: 'args.a', op: 'eq', value: 1, note: 'x' })).toEqual([
      `${C}.note: expected one of the keys path, op, value ("note" is not a policy key)`,
    ])
    expect(cond({ path: 'amount', op: 'eq', value: 1 })).toEqual([
      `${C}.path: expected "args.<name>", "state.<counter>", "client.name" or "client.version" (got "amount")`,
    ])
    expect(cond({ path: 'args.', op: 'eq', value: 1 })).toEqual([
      `${C}.path: expected "args.<name>", "state.<counter>", "client.name" or "client.version" (got "args.")`,
    ])
    expect(cond({ op: 'eq', value: 1 })).toEqual([
      `${C}.path: expected "args.<name>", "state.<counter>", "client.name" or "client.version"`,
    ])
    expect(cond({ path: 'args.a', op: 'like', value: 1 })).toEqual([
      `${C}.op: expected one of "eq", "neq", "in", "not_in", "lt", "lte", "gt", "gte", "regex", "contains", "exists" (got "like")`,
    ])
    expect(cond({ path: 'args.a', op: 'in', value: 'usd' })).toEqual([
      `${C}.value: expected a list for "in" (got "usd")`,
    ])
    expect(cond({ path: 'args.a', op: 'not_in' })).toEqual([
      `${C}.value: expected a list for "not_in" (got nothing)`,
    ])
    expect(cond({ path: 'args.a', op: 'lte', value: '100' })).toEqual([
      `${C}.value: expected a number for "lte" (got "100")`,
    ])
    expect(cond({ path: 'args.a', op: 'regex', value: 5 })).toEqual([
      `${C}.value: expected a regular expression string for "regex" (got 5)`,
    ])
    // Regexes run on RE2: what it refuses is refused here, with where in the pattern.
    expect(cond({ path: 'args.a', op: 'regex', value: '(a)\\1' })).toEqual([
      `${C}.value: expected a regular expression RE2 accepts (invalid escape sequence: \`\\1\` at character 4 (RE2 has no backreferences))`,
    ])
    expect(cond({ path: 'args.a', op: 'regex', value: 'ab(?!c)' })).toEqual([
      `${C}.value: expected a regular expression RE2 accepts (invalid or unsupported Perl syntax: \`(?!\` at character 3 (RE2 has no lookahead or lookbehind))`,
    ])
    expect(cond({ path: 'args.a', op: 'regex', value: '(?<=a)b' })).toEqual([
      `${C}.value: expected a regular expression RE2 accepts (invalid named capture: \`(?<=a)b\` at character 1 (RE2 has no lookahead or lookbehind))`,
    ])
    // Patterns that backtrack exponentially in JavaScript are linear in RE2, so they are valid.
    for (const value of ['^(\\w+\\s?)+$', '(a|a)*$', '((a+)b?)+$', '(.*a){12}$'])
      expect(cond({ path: 'args.a', op: 'regex', value })).toEqual([])
    expect(cond({ path: 'args.a', op: 'regex', value: '^(https?://)?[a-z.]+(ab|cd)+$' })).toEqual(
      [],
    )
    expect(cond({ path: 'args.a', op: 'exists', value: 'yes' })).toEqual([
      `${C}.value: expected true or false for "exists" (got "yes")`,
    ])
    expect(cond({ path: 'args.a', op: 'eq' })).toEqual([
      `${C}.value: expected a value to compare with for "eq"`,
    ])
  })

  it('rejects a regex that does not compile, keeping the error as cause', () => {
    let err: unknown
    try {
      parsePolicy(
        withRules({ name: 'r', conditions: [{ path: 'args.a', op: 'regex', value: '(' }] }),
        FILE,
      )
    } catch (e) {
      err = e
    }
    const pe = err as PolicyError
    expect(pe.message).toBe(
      `${R}.conditions[0].value: expected a regular expression RE2 accepts (missing closing ): \`(\` at character 1)`,
    )
    expect(pe.cause).toBeInstanceOf(SyntaxError)
  })

  it('collects every error with its line and column', () => {
    const r = validatePolicy(
      `version: "1"
tools:
  send_email:
    rules:
      - name: "hourly"
        rate_limit: 5/week
      - name: "cap"
        conditions:
          - path: args.amount
            op: lte
            value: lots
`,
      FILE,
    )
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.errors.map((e) => [e.path, e.line, e.column])).toEqual([
      ['tools.send_email.rules[0].rate_limit', 6, 9],
      ['tools.send_email.rules[1].conditions[0].value', 11, 13],
    ])
  })
})
