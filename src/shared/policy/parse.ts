/**
 * Reads a PolicyLayer/Intercept policy (YAML, or JSON, which is YAML) into the normalized `Policy`.
 * Every problem is reported with the file, the path inside it and what was expected there;
 * `validatePolicy` collects them all (for inline display), `parsePolicy` throws them as one error.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml'
import type { Document, Node } from 'yaml'
import { PolicyError, formatIssue } from './errors'
import { GLOBAL_SCOPE, findCounter, scopeOf, stateRef } from './engine'
import { compileConditionRegex, compileGlob, isGlob } from './glob'
import { SERVER_REQUEST_KINDS } from './types'
import type {
  Condition,
  ConditionOp,
  Policy,
  PolicyIssue,
  Posture,
  RateLimit,
  Rule,
  ServerRequestPolicy,
  StateSpec,
  ToolPolicy,
} from './types'

type Seg = string | number
type Obj = Record<string, unknown>

const TOP_KEYS = [
  'version',
  'description',
  'default',
  'hide',
  'approval_timeout',
  'server_requests',
  'tools',
]
const TOOL_KEYS = ['rules']
const RULE_KEYS = [
  'name',
  'action',
  'conditions',
  'on_deny',
  'reason',
  'rate_limit',
  'state',
  'approval_timeout',
  'clients',
]
const CONDITION_KEYS = ['path', 'op', 'value']
const RATE_KEYS = ['max', 'window', 'scope']
const STATE_KEYS = ['counter', 'window', 'increment', 'increment_from']
const POSTURES: readonly Posture[] = ['allow', 'deny', 'require_approval']
const ACTIONS: readonly Rule['action'][] = ['evaluate', 'deny', 'allow', 'require_approval']
const OPS: readonly ConditionOp[] = [
  'eq',
  'neq',
  'in',
  'not_in',
  'lt',
  'lte',
  'gt',
  'gte',
  'regex',
  'contains',
  'exists',
]
const WINDOWS: readonly StateSpec['window'][] = ['minute', 'hour', 'day']
const RATE_EXPECTED = '"N/minute|hour|day" or {max, window}'
const PATH_EXPECTED = '"args.<name>", "state.<counter>", "client.name" or "client.version"'
const COUNTER_NAME = /^[A-Za-z0-9_-]+$/
const ARGS_PATH = /^args(\.[^.]+)+$/
/** `state.<counter>` or `state.<scope>.<counter>`; a scope (a tool name) may itself hold dots. */
const STATE_PATH = /^state\.(.+\.)?[A-Za-z0-9_-]+$/
/** Airlock's addition: the calling client's `clientInfo.name` / `clientInfo.version`. */
const CLIENT_PATH = /^client\.(name|version)$/

/** The outcome of `validatePolicy`: the policy, or every issue found. */
export type PolicyValidation = { ok: true; policy: Policy } | { ok: false; errors: PolicyIssue[] }

/** Parses and validates a policy; throws `PolicyError` (all issues in `.issues`) when invalid. */
export function parsePolicy(text: string, file: string): Policy {
  const { result, causes } = run(text, file)
  if (result.ok) return result.policy
  const issues = result.errors as [PolicyIssue, ...PolicyIssue[]]
  const cause = causes.get(issues[0])
  throw new PolicyError(issues, cause === undefined ? undefined : { cause })
}

/** Validates a policy, collecting ALL issues (with line and column when known) instead of throwing. */
export function validatePolicy(text: string, file: string): PolicyValidation {
  return run(text, file).result
}

/** Formats a path: `tools.send_email.rules[0]`, with `["…"]` for keys that are not plain words. */
export function formatPath(segs: readonly Seg[]): string {
  let out = ''
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out === '' ? s : `.${s}`
    else out += `[${JSON.stringify(s)}]`
  }
  return out
}

type Pos = { line: number; column: number }

class Collector {
  readonly issues: PolicyIssue[] = []
  readonly causes = new Map<PolicyIssue, unknown>()
  /** Where each rule read sits in the source (non-object rules are skipped, so indexes differ). */
  readonly ruleSegs = new WeakMap<Rule, Seg[]>()
  constructor(
    private readonly file: string,
    private readonly where: (segs: readonly Seg[]) => Pos | undefined,
    readonly at: (offset: number) => Pos,
  ) {}

  add(segs: readonly Seg[], expected: string, cause?: unknown): void {
    this.addAt(formatPath(segs), expected, this.where(segs), cause)
  }

  addAt(path: string, expected: string, pos: Pos | undefined, cause?: unknown): void {
    const issue: PolicyIssue = {
      file: this.file,
      path,
      expected,
      message: formatIssue(this.file, path, expected),
      ...pos,
    }
    this.issues.push(issue)
    if (cause !== undefined) this.causes.set(issue, cause)
  }
}

function run(
  text: string,
  file: string,
): { result: PolicyValidation; causes: Map<PolicyIssue, unknown> } {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false })
  const at = (offset: number): Pos => {
    const { line, col } = lines.linePos(offset)
    return { line, column: col }
  }
  const out = new Collector(
    file,
    (segs) => {
      const offset = locate(doc, segs)
      return offset === undefined ? undefined : at(offset)
    },
    at,
  )
  for (const err of doc.errors) {
    out.addAt('', `valid YAML or JSON (${err.message})`, at(err.pos[0]), err)
  }
  if (out.issues.length > 0)
    return { result: { ok: false, errors: out.issues }, causes: out.causes }
  findDuplicateKeys(doc.contents, [], out)
  let raw: unknown
  try {
    raw = doc.toJS()
  } catch (err) {
    // e.g. an alias expanding beyond the yaml package's limit ("billion laughs").
    out.add([], `a policy document (${(err as Error).message})`, err)
    return { result: { ok: false, errors: out.issues }, causes: out.causes }
  }
  const policy = readPolicy(raw, out)
  const result: PolicyValidation =
    out.issues.length === 0 ? { ok: true, policy } : { ok: false, errors: out.issues }
  return { result, causes: out.causes }
}

// ── Locations ─────────────────────────────────────────────────────────────────────────────

function keyOf(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined
}

/** The source offset of the node at `segs` (for map entries, the key), or of its nearest parent. */
function locate(doc: Document, segs: readonly Seg[]): number | undefined {
  let node: unknown = doc.contents
  let offset = isNodeWithRange(node) ? node.range[0] : undefined
  for (const seg of segs) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find((p) => keyOf(p.key) === String(seg))
      if (!pair) break
      if (isNodeWithRange(pair.key)) offset = pair.key.range[0]
      node = pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg]
      if (isNodeWithRange(node)) offset = node.range[0]
    } else break
  }
  return offset
}

function isNodeWithRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === 'object' && n !== null && Array.isArray((n as { range?: unknown }).range)
}

function findDuplicateKeys(node: unknown, segs: Seg[], out: Collector): void {
  if (isMap(node)) {
    const seen = new Set<string>()
    for (const pair of node.items) {
      const key = keyOf(pair.key)
      if (key === undefined) continue
      if (seen.has(key)) {
        // The repeated key's own position (`locate` would find the first occurrence).
        const pos = isNodeWithRange(pair.key) ? out.at(pair.key.range[0]) : undefined
        out.addAt(
          formatPath([...segs, key]),
          `each key once (${JSON.stringify(key)} is repeated)`,
          pos,
        )
      }
      seen.add(key)
      findDuplicateKeys(pair.value, [...segs, key], out)
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => findDuplicateKeys(item, [...segs, i], out))
  }
}

// ── Reading ───────────────────────────────────────────────────────────────────────────────

function isObj(v: unknown): v is Obj {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  )
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}

function checkKeys(obj: Obj, allowed: readonly string[], segs: Seg[], out: Collector): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      out.add(
        [...segs, key],
        `one of the keys ${allowed.join(', ')} (${JSON.stringify(key)} is not a policy key)`,
      )
    }
  }
}

function oneOf<T extends string>(
  v: unknown,
  values: readonly T[],
  segs: Seg[],
  out: Collector,
): T | undefined {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T
  out.add(segs, `one of ${values.map((x) => `"${x}"`).join(', ')} (got ${show(v)})`)
  return undefined
}

function positiveSeconds(v: unknown, segs: Seg[], out: Collector): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v
  out.add(segs, `a positive number of seconds (got ${show(v)})`)
  return undefined
}

function optText(obj: Obj, key: string, segs: Seg[], out: Collector): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v
  out.add([...segs, key], `a string (got ${show(v)})`)
  return undefined
}

function readPolicy(raw: unknown, out: Collector): Policy {
  const policy: Policy = { version: '1', default: 'allow', hide: [], tools: [] }
  if (!isObj(raw)) {
    out.add(
      [],
      `a mapping with at least version: "1" (got ${raw === null || raw === undefined ? 'an empty document' : show(raw)})`,
    )
    return policy
  }
  checkKeys(raw, TOP_KEYS, [], out)
  if (raw.version !== '1' && raw.version !== 1) {
    out.add(['version'], raw.version === undefined ? '"1"' : `"1" (got ${show(raw.version)})`)
  }
  const description = optText(raw, 'description', [], out)
  if (description !== undefined) policy.description = description
  if (raw.default !== undefined && raw.default !== null) {
    policy.default = oneOf(raw.default, POSTURES, ['default'], out) ?? 'allow'
  }
  if (raw.approval_timeout !== undefined && raw.approval_timeout !== null) {
    policy.approvalTimeoutSeconds = positiveSeconds(raw.approval_timeout, ['approval_timeout'], out)
  }
  const serverRequests = readServerRequests(raw.server_requests, out)
  if (serverRequests) policy.serverRequests = serverRequests
  policy.hide = readHide(raw.hide, out)
  policy.tools = readTools(raw.tools, out)
  checkStateReferences(policy, out)
  return policy
}

/** `server_requests: { sampling, elicitation, roots }`, each allow | deny | require_approval. */
function readServerRequests(v: unknown, out: Collector): ServerRequestPolicy | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObj(v)) {
    out.add(
      ['server_requests'],
      `a mapping of ${SERVER_REQUEST_KINDS.join(', ')} to ${POSTURES.join(' | ')} (got ${show(v)})`,
    )
    return undefined
  }
  checkKeys(v, SERVER_REQUEST_KINDS, ['server_requests'], out)
  const policy: ServerRequestPolicy = {}
  for (const kind of SERVER_REQUEST_KINDS) {
    if (v[kind] === undefined || v[kind] === null) continue
    const posture = oneOf(v[kind], POSTURES, ['server_requests', kind], out)
    if (posture) policy[kind] = posture
  }
  return policy
}

function readHide(v: unknown, out: Collector): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) {
    out.add(['hide'], `a list of tool names or globs (got ${show(v)})`)
    return []
  }
  const hide: string[] = []
  v.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '') {
      out.add(['hide', i], `a tool name or glob (got ${show(name)})`)
    } else if (hide.includes(name)) {
      out.add(['hide', i], `each name once (${JSON.stringify(name)} is repeated)`)
    } else if (checkGlob(name, ['hide', i], out)) {
      hide.push(name)
    }
  })
  return hide
}

function checkGlob(pattern: string, segs: Seg[], out: Collector): boolean {
  if (!isGlob(pattern)) return true
  try {
    compileGlob(pattern)
    return true
  } catch (err) {
    out.add(segs, `a tool name or glob (${(err as Error).message})`, err)
    return false
  }
}

function readTools(v: unknown, out: Collector): ToolPolicy[] {
  if (v === undefined || v === null) return []
  if (!isObj(v)) {
    out.add(['tools'], `a mapping of tool names (or globs) to { rules: [...] } (got ${show(v)})`)
    return []
  }
  const tools: ToolPolicy[] = []
  for (const [pattern, entry] of Object.entries(v)) {
    const segs: Seg[] = ['tools', pattern]
    if (pattern.trim() === '') {
      out.add(segs, 'a tool name or glob, not an empty key')
      continue
    }
    if (!checkGlob(pattern, segs, out)) continue
    // `tool:` with nothing after it, or `rules:` left empty, means "no rules".
    if (entry === null || entry === undefined) {
      tools.push({ pattern, rules: [] })
      continue
    }
    if (!isObj(entry)) {
      out.add(segs, `{ rules: [...] } (got ${show(entry)})`)
      continue
    }
    checkKeys(entry, TOOL_KEYS, segs, out)
    tools.push({ pattern, rules: readRules(entry.rules, [...segs, 'rules'], out) })
  }
  return tools
}

function readRules(v: unknown, segs: Seg[], out: Collector): Rule[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) {
    out.add(segs, `a list of rules (got ${show(v)})`)
    return []
  }
  const rules: Rule[] = []
  const names = new Set<string>()
  const counters = new Map<string, number>()
  v.forEach((item, i) => {
    const rule = readRule(item, [...segs, i], out)
    if (!rule) return
    out.ruleSegs.set(rule, [...segs, i])
    if (rule.name.trim() !== '' && names.has(rule.name))
      out.add(
        [...segs, i, 'name'],
        `a rule name unique within this tool (${JSON.stringify(rule.name)} is repeated)`,
      )
    names.add(rule.name)
    if (rule.state) {
      const prev = counters.get(rule.state.counter)
      if (prev !== undefined) {
        out.add(
          [...segs, i, 'state', 'counter'],
          `a counter name unique within this tool (${JSON.stringify(rule.state.counter)} is also used by rules[${prev}])`,
        )
      } else counters.set(rule.state.counter, i)
    }
    rules.push(rule)
  })
  return rules
}

function readRule(v: unknown, segs: Seg[], out: Collector): Rule | undefined {
  if (!isObj(v)) {
    out.add(
      segs,
      `a rule { name, action?, conditions?, on_deny?, rate_limit?, state? } (got ${show(v)})`,
    )
    return undefined
  }
  checkKeys(v, RULE_KEYS, segs, out)
  const name = typeof v.name === 'string' ? v.name : ''
  if (name.trim() === '')
    out.add(
      [...segs, 'name'],
      v.name === undefined ? 'a rule name' : `a non-empty rule name (got ${show(v.name)})`,
    )
  const action =
    v.action === undefined || v.action === null
      ? 'evaluate'
      : oneOf(v.action, ACTIONS, [...segs, 'action'], out)
  const rule: Rule = {
    name,
    action: action ?? 'evaluate',
    conditions: readConditions(v.conditions, [...segs, 'conditions'], out),
  }

  const onDeny = optText(v, 'on_deny', segs, out)
  const reason = optText(v, 'reason', segs, out)
  if (onDeny !== undefined && reason !== undefined)
    out.add([...segs, 'reason'], 'either on_deny or its alias reason, not both')
  if ((onDeny ?? reason) !== undefined) rule.onDeny = onDeny ?? reason

  if (v.rate_limit !== undefined && v.rate_limit !== null)
    rule.rateLimit = readRateLimit(v.rate_limit, [...segs, 'rate_limit'], out)
  if (v.state !== undefined && v.state !== null)
    rule.state = readState(v.state, [...segs, 'state'], out)
  if (v.approval_timeout !== undefined && v.approval_timeout !== null) {
    if (rule.action !== 'require_approval') {
      out.add(
        [...segs, 'approval_timeout'],
        'approval_timeout only on a rule with action: require_approval',
      )
    } else {
      rule.approvalTimeoutSeconds = positiveSeconds(
        v.approval_timeout,
        [...segs, 'approval_timeout'],
        out,
      )
    }
  }

  if (v.clients !== undefined && v.clients !== null) {
    const clients = readClients(v.clients, [...segs, 'clients'], out)
    if (clients) rule.clients = clients
  }

  if (rule.action === 'deny' && (v.rate_limit != null || v.state != null)) {
    out.add(
      [...segs, v.rate_limit != null ? 'rate_limit' : 'state'],
      'no rate_limit or state on a rule with action: deny (it never lets a call through to count)',
    )
  }
  const noConditions =
    v.conditions == null || (Array.isArray(v.conditions) && v.conditions.length === 0)
  if (action === 'evaluate' && noConditions && v.rate_limit == null && v.state == null) {
    out.add(
      segs,
      'conditions, rate_limit or state on an "evaluate" rule (without them it checks nothing)',
    )
  }
  // Returned even when invalid, so later checks (names, counters) still see it; the policy is not.
  return rule
}

/** `clients: [names]` (Airlock's addition): the `clientInfo.name`s a rule is scoped to. */
function readClients(v: unknown, segs: Seg[], out: Collector): string[] | undefined {
  const expected =
    'a list of client names as their clientInfo.name gives them, e.g. ["claude-code", "cursor"]'
  if (!Array.isArray(v) || v.length === 0) {
    out.add(segs, `${expected} (got ${Array.isArray(v) ? 'an empty list' : show(v)})`)
    return undefined
  }
  const names: string[] = []
  v.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '') {
      out.add([...segs, i], `a client name, a non-empty string (got ${show(name)})`)
    } else if (names.includes(name)) {
      out.add([...segs, i], `each client once (${JSON.stringify(name)} is repeated)`)
    } else names.push(name)
  })
  return names.length === v.length ? names : undefined
}

function readConditions(v: unknown, segs: Seg[], out: Collector): Condition[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) {
    out.add(segs, `a list of conditions [{path, op, value}] (got ${show(v)})`)
    return []
  }
  const conditions: Condition[] = []
  v.forEach((item, i) => {
    const c = readCondition(item, [...segs, i], out)
    if (c) conditions.push(c)
  })
  return conditions
}

function readCondition(v: unknown, segs: Seg[], out: Collector): Condition | undefined {
  if (!isObj(v)) {
    out.add(segs, `a condition {path, op, value} (got ${show(v)})`)
    return undefined
  }
  checkKeys(v, CONDITION_KEYS, segs, out)
  const path = typeof v.path === 'string' ? v.path : ''
  const pathOk = ARGS_PATH.test(path) || STATE_PATH.test(path) || CLIENT_PATH.test(path)
  if (!pathOk) {
    out.add(
      [...segs, 'path'],
      v.path === undefined ? PATH_EXPECTED : `${PATH_EXPECTED} (got ${show(v.path)})`,
    )
  }
  const op = oneOf(v.op, OPS, [...segs, 'op'], out)
  const has = Object.prototype.hasOwnProperty.call(v, 'value')
  const value = v.value
  const at = [...segs, 'value']
  switch (op) {
    case undefined:
      break
    case 'in':
    case 'not_in':
      if (!Array.isArray(value))
        out.add(at, `a list for "${op}" (got ${has ? show(value) : 'nothing'})`)
      break
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      if (typeof value !== 'number' || !Number.isFinite(value))
        out.add(at, `a number for "${op}" (got ${has ? show(value) : 'nothing'})`)
      break
    case 'regex':
      if (typeof value !== 'string')
        out.add(
          at,
          `a regular expression string for "regex" (got ${has ? show(value) : 'nothing'})`,
        )
      else {
        try {
          compileConditionRegex(value)
        } catch (err) {
          out.add(at, `a regular expression RE2 accepts (${(err as Error).message})`, err)
        }
      }
      break
    case 'exists':
      // Superset: a bare `exists` means `value: true`.
      if (has && typeof value !== 'boolean')
        out.add(at, `true or false for "exists" (got ${show(value)})`)
      break
    case 'eq':
    case 'neq':
    case 'contains':
      if (!has) out.add(at, `a value to compare with for "${op}"`)
      break
  }
  // Kept when only the value is wrong, so the state reference check still sees its path.
  if (!pathOk || op === undefined) return undefined
  return op === 'exists' && !has ? { path, op, value: true } : { path, op, value }
}

function readRateLimit(v: unknown, segs: Seg[], out: Collector): RateLimit | undefined {
  if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*\/\s*(minute|hour|day)s?\s*$/.exec(v)
    const max = m ? Number(m[1]) : 0
    if (!m || !Number.isSafeInteger(max) || max < 1) {
      out.add(segs, `${RATE_EXPECTED} (got ${show(v)})`)
      return undefined
    }
    // Intercept counts the string form per tool across all callers, so it is global here too.
    return { kind: 'calendar', max, unit: m[2] as 'minute' | 'hour' | 'day', scope: 'global' }
  }
  if (!isObj(v)) {
    out.add(segs, `${RATE_EXPECTED} (got ${show(v)})`)
    return undefined
  }
  const before = out.issues.length
  checkKeys(v, RATE_KEYS, segs, out)
  const max = v.max
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    out.add(
      [...segs, 'max'],
      `a positive whole number of calls (got ${v.max === undefined ? 'nothing' : show(v.max)})`,
    )
  }
  const windowSeconds = positiveSeconds(v.window, [...segs, 'window'], out)
  const scope =
    v.scope === undefined || v.scope === null
      ? 'session'
      : oneOf(v.scope, ['session', 'global'] as const, [...segs, 'scope'], out)
  if (out.issues.length > before || windowSeconds === undefined || scope === undefined)
    return undefined
  return { kind: 'sliding', max: max as number, windowSeconds, scope }
}

function readState(v: unknown, segs: Seg[], out: Collector): StateSpec | undefined {
  if (!isObj(v)) {
    out.add(
      segs,
      `{counter, window: minute|hour|day, increment?, increment_from?} (got ${show(v)})`,
    )
    return undefined
  }
  const before = out.issues.length
  checkKeys(v, STATE_KEYS, segs, out)
  const counter = typeof v.counter === 'string' ? v.counter : ''
  if (!COUNTER_NAME.test(counter)) {
    out.add(
      [...segs, 'counter'],
      `a counter name of letters, digits, "_" or "-" (got ${v.counter === undefined ? 'nothing' : show(v.counter)})`,
    )
  }
  const window = oneOf(v.window, WINDOWS, [...segs, 'window'], out)
  let increment = 1
  if (v.increment !== undefined && v.increment !== null) {
    if (typeof v.increment === 'number' && Number.isFinite(v.increment) && v.increment > 0)
      increment = v.increment
    else out.add([...segs, 'increment'], `a positive number (got ${show(v.increment)})`)
  }
  const from = v.increment_from
  if (from !== undefined && from !== null && (typeof from !== 'string' || !ARGS_PATH.test(from))) {
    out.add([...segs, 'increment_from'], `"args.<name>" (got ${show(from)})`)
  }
  if (out.issues.length > before || window === undefined) return undefined
  const spec: StateSpec = { counter, window, increment }
  if (typeof from === 'string') spec.incrementFrom = from
  return spec
}

function checkStateReferences(policy: Policy, out: Collector): void {
  for (const entry of policy.tools) {
    for (const rule of entry.rules) {
      rule.conditions.forEach((c, j) => {
        if (!c.path.startsWith('state.')) return
        const { scope, counter } = stateRef(c.path, scopeOf(entry.pattern))
        if (!findCounter(policy, scope, counter)) {
          out.add(
            [...(out.ruleSegs.get(rule) ?? ['tools', entry.pattern]), 'conditions', j, 'path'],
            `a counter defined by a rule's state block (no rule of ${scope === GLOBAL_SCOPE ? '"*"' : JSON.stringify(scope)} has state.counter ${JSON.stringify(counter)})`,
          )
        }
      })
    }
  }
}
