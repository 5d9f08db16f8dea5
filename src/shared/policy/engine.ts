/**
 * The decision engine: a pure function of (policy, risk floor, call, counters, clock) with
 * Intercept's semantics, extended with `allow` / `require_approval` actions, sliding rate limits
 * and the risk floor.
 *
 * Order: `hide` → the tool's entry (exact name, else the most specific glob) → with
 * `default: deny`, an unlisted tool is denied before any `"*"` rule runs → the entry's rules, then
 * the `"*"` rules, in file order. Per rule (conditions are ANDed; no conditions = always true):
 * - `evaluate`: the conditions are requirements; the first one that fails denies (Intercept).
 * - `deny`: denies when its conditions hold (Intercept's deny has none: it always denies).
 * - `allow`: when its conditions hold, allows at once; later rules are not evaluated.
 * - `require_approval`: when its conditions hold, the call needs approval, but later rules still
 *   run, so a deny or an exhausted limit wins over asking a person (deny > approval > allow).
 * A rule's `rate_limit` and `state` count only when the rule applies (always for `evaluate`).
 * A rule with `clients` (Airlock's addition) applies only to calls from those clients
 * (`clientInfo.name`); for any other client it is skipped as if absent.
 * No deciding rule → the default posture, which (`deny` and `require_approval` alike) only
 * concerns unlisted tools: a listed tool that no rule stops is allowed.
 *
 * The risk floor (Airlock's addition, safe by default): a call that would be allowed, of a tool
 * whose class reaches the floor (critical, or high too), needs approval unless a rule of the
 * tool's own entry (its name or a glob, not `"*"`) applied to it — the policy decided it
 * explicitly. It never weakens a policy: hide, deny, limits and approvals stand as they are.
 */
import { classifyName, classReason, compareRisk, type ToolClass } from '../risk'
import { REGEX_INPUT_LIMIT, compileConditionRegex, findToolEntry } from './glob'
import { isHidden } from './hide'
import type {
  CallInput,
  Condition,
  ConditionOp,
  CounterView,
  Decision,
  Policy,
  Reservation,
  RiskFloor,
  Rule,
  StateSpec,
  ToolPolicy,
} from './types'

/** The approval timeout when neither the rule nor the policy gives one (under the ~60 s clients wait). */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 45_000

/** The state scope Intercept gives the `"*"` bucket's counters: `state._global.<counter>`. */
export const GLOBAL_SCOPE = '_global'

/** Options of `decide`. */
export interface DecideOptions {
  /** Used when neither the rule nor the policy sets `approval_timeout` (default 45 000). */
  defaultApprovalTimeoutMs?: number
  /** The risk floor (default `critical`: safe when a caller forgets it). */
  riskFloor?: RiskFloor
}

/**
 * The class the floor judges a call by: the gateway's class of the tool, never lower than the
 * tool's name alone says.
 */
export function floorClass(call: Pick<CallInput, 'tool' | 'risk'>): ToolClass {
  const byName = classifyName(call.tool)
  return call.risk && compareRisk(call.risk.risk, byName.risk) > 0 ? call.risk : byName
}

/** Whether a tool of `cls` is guarded by `floor`. */
export function floorGuards(floor: RiskFloor, cls: ToolClass): boolean {
  if (floor === 'off') return false
  return compareRisk(cls.risk, floor) >= 0
}

/** The reason an approval the floor asked for gives: `risk floor: critical (auth — "logout")`. */
export function floorReason(cls: ToolClass): string {
  return `risk floor: ${cls.risk} (${classReason(cls)})`
}

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const

/** The UTC-aligned calendar window (start inclusive, end exclusive, epoch ms) containing `now`. */
export function calendarWindow(
  unit: keyof typeof UNIT_MS,
  now: number,
): { start: number; end: number } {
  const size = UNIT_MS[unit]
  const start = Math.floor(now / size) * size
  return { start, end: start + size }
}

/** The state scope of a tool entry: its pattern, or `_global` for the `"*"` bucket. */
export function scopeOf(pattern: string): string {
  return pattern === '*' ? GLOBAL_SCOPE : pattern
}

/** Splits `state.<counter>` (the rule's own scope) or `state.<scope>.<counter>`. */
export function stateRef(path: string, ownScope: string): { scope: string; counter: string } {
  const rest = path.slice('state.'.length)
  const dot = rest.lastIndexOf('.')
  return dot < 0
    ? { scope: ownScope, counter: rest }
    : { scope: rest.slice(0, dot), counter: rest.slice(dot + 1) }
}

/** The `state` block that defines `counter` in `scope` (a tool pattern or `_global`), if any. */
export function findCounter(policy: Policy, scope: string, counter: string): StateSpec | undefined {
  const entry = policy.tools.find((t) => scopeOf(t.pattern) === scope)
  return entry?.rules.find((r) => r.state?.counter === counter)?.state
}

/** The counter key of a rule's rate limit: `rl:<toolPattern>:<rule>:<s:session | g>`. */
export function rateLimitKey(
  pattern: string,
  rule: string,
  scope: 'session' | 'global',
  sessionId: string,
): string {
  return `rl:${pattern}:${rule}:${scope === 'session' ? `s:${sessionId}` : 'g'}`
}

/** The counter key of a state counter; Intercept's state counters are shared by all sessions. */
export function stateKey(scope: string, counter: string): string {
  return `st:${scope}:${counter}:g`
}

interface Ctx {
  policy: Policy
  call: CallInput
  counters: CounterView
  now: number
  reservations: Reservation[]
}

/** A counter as a condition sees it; for the rule's own counter, the value after this call. */
interface CounterRead {
  counter: string
  key: string
  window: StateSpec['window']
  start: number
  end: number
  value: number
  amount: number
  own: boolean
}

/** Thrown by a regex condition over an input longer than REGEX_INPUT_LIMIT; decide() denies. */
class RegexInputTooLong extends Error {
  override readonly name = 'RegexInputTooLong'
  constructor(
    readonly path: string,
    readonly length: number,
  ) {
    super(`${path} is ${length} characters long`)
  }
}

type Step = { kind: 'pass' | 'skip' | 'allow' | 'approve' } | { kind: 'stop'; decision: Decision }

/**
 * Decides a tool call. Pure: counters are only read; the decision lists the increments to reserve.
 * A regex condition over an argument longer than REGEX_INPUT_LIMIT denies the call (fail closed).
 */
export function decide(
  policy: Policy,
  call: CallInput,
  counters: CounterView,
  now: number,
  opts: DecideOptions = {},
): Decision {
  try {
    return decideUnchecked(policy, call, counters, now, opts)
  } catch (err) {
    if (!(err instanceof RegexInputTooLong)) throw err
    return {
      kind: 'deny',
      reason: `${err.path} is ${err.length} characters long; regex conditions match at most ${REGEX_INPUT_LIMIT} characters, so this call is denied: send a shorter value`,
    }
  }
}

function decideUnchecked(
  policy: Policy,
  call: CallInput,
  counters: CounterView,
  now: number,
  opts: DecideOptions,
): Decision {
  if (isHidden(policy, call.tool)) return { kind: 'hidden' }
  const entry = findToolEntry(policy.tools, call.tool)
  if (!entry && policy.default === 'deny') {
    return {
      kind: 'deny',
      reason: `tool "${call.tool}" is not allowed by this policy (default: deny)`,
    }
  }
  const wildcard = policy.tools.find((t) => t.pattern === '*')
  const ctx: Ctx = { policy, call, counters, now, reservations: [] }
  let approval: Rule | undefined
  let allowedBy: Rule | undefined
  // Whether a rule of the tool's own entry applied: the policy decided this tool explicitly.
  let explicit = false
  outer: for (const e of [entry, wildcard]) {
    for (const rule of e?.rules ?? []) {
      const step = runRule(ctx, e as ToolPolicy, rule)
      if (step.kind === 'stop') return step.decision
      if (e === entry && step.kind !== 'skip') explicit = true
      if (step.kind === 'approve') approval ??= rule
      if (step.kind === 'allow') {
        allowedBy = rule
        break outer
      }
    }
  }
  const timeoutMs = (rule?: Rule): number => {
    const seconds = rule?.approvalTimeoutSeconds ?? policy.approvalTimeoutSeconds
    return seconds !== undefined
      ? Math.round(seconds * 1000)
      : (opts.defaultApprovalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS)
  }
  if (approval) {
    return {
      kind: 'needs_approval',
      rule: approval.name,
      reason: `rule "${approval.name}" requires approval`,
      timeoutMs: timeoutMs(approval),
      reservations: ctx.reservations,
    }
  }
  if (!entry && !allowedBy && policy.default === 'require_approval') {
    return {
      kind: 'needs_approval',
      reason: 'this policy requires approval (default: require_approval)',
      timeoutMs: timeoutMs(),
      reservations: ctx.reservations,
    }
  }
  const floor = opts.riskFloor ?? 'critical'
  if (!explicit && floor !== 'off') {
    const cls = floorClass(call)
    if (floorGuards(floor, cls)) {
      return {
        kind: 'needs_approval',
        reason: floorReason(cls),
        timeoutMs: timeoutMs(),
        reservations: ctx.reservations,
        floor: cls,
      }
    }
  }
  if (allowedBy) return { kind: 'allow', rule: allowedBy.name, reservations: ctx.reservations }
  return { kind: 'allow', reservations: ctx.reservations }
}

function runRule(ctx: Ctx, entry: ToolPolicy, rule: Rule): Step {
  if (rule.clients && !appliesToClient(rule.clients, ctx.call)) return { kind: 'skip' }
  const scope = scopeOf(entry.pattern)
  let own: CounterRead | undefined
  if (rule.state) {
    const amount = incrementOf(rule.state, ctx.call.args)
    if (amount === undefined) {
      const reason = `rule "${rule.name}" counts ${rule.state.incrementFrom} toward "${rule.state.counter}", so it must be a number of 0 or more`
      return { kind: 'stop', decision: { kind: 'deny', reason, rule: rule.name } }
    }
    own = readCounter(ctx, scope, rule.state, amount, true)
  }
  const failed = rule.conditions.find((c) => !holds(ctx, c, scope, own))
  switch (rule.action) {
    case 'deny':
      if (failed) return { kind: 'skip' }
      return {
        kind: 'stop',
        decision: {
          kind: 'deny',
          reason: rule.onDeny ?? `denied by rule "${rule.name}"`,
          rule: rule.name,
        },
      }
    case 'evaluate':
      if (failed) return { kind: 'stop', decision: conditionFailed(ctx, rule, failed, scope, own) }
      break
    case 'allow':
    case 'require_approval':
      if (failed) return { kind: 'skip' }
      break
  }
  const limited = checkRateLimit(ctx, entry, rule)
  if (limited) return { kind: 'stop', decision: limited }
  if (own && own.amount > 0) {
    ctx.reservations.push({
      kind: 'calendar',
      key: own.key,
      windowStart: own.start,
      windowEnd: own.end,
      amount: own.amount,
    })
  }
  return {
    kind:
      rule.action === 'allow' ? 'allow' : rule.action === 'require_approval' ? 'approve' : 'pass',
  }
}

function checkRateLimit(ctx: Ctx, entry: ToolPolicy, rule: Rule): Decision | undefined {
  const limit = rule.rateLimit
  if (!limit) return undefined
  const key = rateLimitKey(entry.pattern, rule.name, limit.scope, ctx.call.sessionId)
  if (limit.kind === 'calendar') {
    const { start, end } = calendarWindow(limit.unit, ctx.now)
    if (ctx.counters.calendar(key, start) + 1 > limit.max) {
      const reason =
        rule.onDeny ??
        `rate limit "${rule.name}" exceeded: ${limit.max}/${limit.unit} (resets at ${clock(end)})`
      return { kind: 'rate_limited', reason, rule: rule.name, retryAfterMs: end - ctx.now }
    }
    ctx.reservations.push({ kind: 'calendar', key, windowStart: start, windowEnd: end, amount: 1 })
    return undefined
  }
  const windowMs = Math.round(limit.windowSeconds * 1000)
  if (ctx.counters.sliding(key, ctx.now, windowMs) + 1 > limit.max) {
    const freeAt = ctx.counters.slidingFreeAt?.(key, ctx.now, windowMs, limit.max - 1)
    const retryAfterMs = freeAt === undefined ? windowMs : Math.max(0, freeAt - ctx.now)
    const reason =
      rule.onDeny ??
      `rate limit "${rule.name}" exceeded: ${limit.max} per ${limit.windowSeconds}s (retry in ${Math.ceil(retryAfterMs / 1000)}s)`
    return { kind: 'rate_limited', reason, rule: rule.name, retryAfterMs }
  }
  ctx.reservations.push({ kind: 'sliding', key, at: ctx.now, windowMs, amount: 1 })
  return undefined
}

/** A failed requirement: a counter over its lt/lte limit is rate_limited until its window resets. */
function conditionFailed(
  ctx: Ctx,
  rule: Rule,
  c: Condition,
  scope: string,
  own: CounterRead | undefined,
): Decision {
  const read = c.path.startsWith('state.') ? stateValue(ctx, c, scope, own) : undefined
  if (read && (c.op === 'lt' || c.op === 'lte')) {
    const reason =
      rule.onDeny ??
      `limit "${rule.name}" reached: ${read.counter} ${read.own ? 'would reach' : 'is at'} ${read.value}, the limit is ${c.op} ${String(c.value)} per ${read.window} (resets at ${clock(read.end)})`
    return { kind: 'rate_limited', reason, rule: rule.name, retryAfterMs: read.end - ctx.now }
  }
  return {
    kind: 'deny',
    reason:
      rule.onDeny ??
      `denied by rule "${rule.name}": ${c.path} ${c.op} ${show(c.value)} does not hold`,
    rule: rule.name,
  }
}

function readCounter(
  ctx: Ctx,
  scope: string,
  spec: StateSpec,
  amount: number,
  own: boolean,
): CounterRead {
  const { start, end } = calendarWindow(spec.window, ctx.now)
  const key = stateKey(scope, spec.counter)
  const value = ctx.counters.calendar(key, start) + (own ? amount : 0)
  return { counter: spec.counter, key, window: spec.window, start, end, value, amount, own }
}

function stateValue(
  ctx: Ctx,
  c: Condition,
  scope: string,
  own: CounterRead | undefined,
): CounterRead | undefined {
  const ref = stateRef(c.path, scope)
  if (own && ref.scope === scope && ref.counter === own.counter) return own
  const spec = findCounter(ctx.policy, ref.scope, ref.counter)
  return spec ? readCounter(ctx, ref.scope, spec, 0, false) : undefined
}

/** Whether a rule scoped to `clients` applies to this call (an unknown client matches none). */
export function appliesToClient(
  clients: readonly string[],
  call: Pick<CallInput, 'client'>,
): boolean {
  const name = call.client?.name
  return name !== undefined && clients.includes(name)
}

function holds(ctx: Ctx, c: Condition, scope: string, own: CounterRead | undefined): boolean {
  if (c.path.startsWith('state.')) {
    const read = stateValue(ctx, c, scope, own)
    return read ? test(c.op, true, read.value, c.value) : false
  }
  if (c.path === 'client.name' || c.path === 'client.version') {
    const value = c.path === 'client.name' ? ctx.call.client?.name : ctx.call.client?.version
    if (c.op === 'regex' && typeof value === 'string' && value.length > REGEX_INPUT_LIMIT)
      throw new RegexInputTooLong(c.path, value.length)
    return test(c.op, value !== undefined, value, c.value)
  }
  const { found, value } = resolveArgs(ctx.call.args, c.path.slice('args.'.length))
  if (c.op === 'regex' && typeof value === 'string' && value.length > REGEX_INPUT_LIMIT)
    throw new RegexInputTooLong(c.path, value.length)
  return test(c.op, found, value, c.value)
}

/** Reads a dotted path from the arguments (numeric segments index arrays). */
function resolveArgs(
  args: Record<string, unknown>,
  dotted: string,
): { found: boolean; value?: unknown } {
  let cur: unknown = args
  for (const seg of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, seg))
      return { found: false }
    cur = (cur as Record<string, unknown>)[seg]
  }
  return { found: true, value: cur }
}

function incrementOf(spec: StateSpec, args: Record<string, unknown>): number | undefined {
  if (!spec.incrementFrom) return spec.increment
  const { found, value } = resolveArgs(args, spec.incrementFrom.slice('args.'.length))
  const n = found ? toNumber(value) : undefined
  // A negative amount would let an agent wind a spend counter back.
  return n !== undefined && n >= 0 ? n : undefined
}

/**
 * Tests one operator (Intercept's semantics). A missing value fails every operator but `exists`.
 * Numbers compare numerically, and numeric strings count as numbers (so `"900"` is `gt 500`).
 */
function test(op: ConditionOp, found: boolean, actual: unknown, expected: unknown): boolean {
  if (op === 'exists')
    return (found && actual !== null && actual !== undefined) === (expected !== false)
  if (!found) return false
  switch (op) {
    case 'eq':
      return looseEq(actual, expected)
    case 'neq':
      return !looseEq(actual, expected)
    case 'in':
      return Array.isArray(expected) && expected.some((x) => looseEq(actual, x))
    case 'not_in':
      return Array.isArray(expected) && !expected.some((x) => looseEq(actual, x))
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const a = toNumber(actual)
      const b = toNumber(expected)
      if (a === undefined || b === undefined) return false
      return op === 'lt' ? a < b : op === 'lte' ? a <= b : op === 'gt' ? a > b : a >= b
    }
    case 'regex': {
      if (typeof actual !== 'string' || typeof expected !== 'string') return false
      let re
      try {
        re = compileConditionRegex(expected)
      } catch {
        return false
      }
      return re.test(actual)
    }
    case 'contains':
      if (typeof actual === 'string')
        return typeof expected === 'string' && actual.includes(expected)
      return Array.isArray(actual) && actual.some((x) => looseEq(x, expected))
  }
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : v
  if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(v))
    return Number(v)
  return undefined
}

/** Intercept's equality: numerically when both are numbers, else by text; lists and objects deeply. */
function looseEq(a: unknown, b: unknown): boolean {
  const an = toNumber(a)
  const bn = toNumber(b)
  if (an !== undefined && bn !== undefined) return an === bn
  if (a === null || b === null) return a === b
  const prim = (v: unknown): boolean => ['string', 'number', 'boolean'].includes(typeof v)
  if (prim(a) && prim(b)) return String(a) === String(b)
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => looseEq(x, b[i]))
  if (
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ak = Object.keys(a)
    const bo = b as Record<string, unknown>
    return (
      ak.length === Object.keys(b).length &&
      ak.every(
        (k) =>
          Object.prototype.hasOwnProperty.call(b, k) &&
          looseEq((a as Record<string, unknown>)[k], bo[k]),
      )
    )
  }
  return false
}

function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 60)}…` : s
}
