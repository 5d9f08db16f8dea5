/**
 * Edits a policy file's text the way a person would, with the `yaml` document model so comments
 * and order survive: a tool's action, rate limit and reason live in one unconditional rule of
 * `tools.<name>.rules` (found, or added at the end so conditional rules before it still apply),
 * "hide" is the `hide` list, and the default posture is `default`. JSON files stay JSON.
 */
import {
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml'

/** What the Tools & policy table edits per tool. */
export type ToolAction = 'default' | 'allow' | 'require_approval' | 'deny' | 'hide'

/**
 * A tool's setting as shown: action, rate limit text ("10/minute", "5/60s"), deny reason, and
 * the clients the rule is scoped to (`clients:`, names separated by commas; absent or '' = every
 * client). A setting without `clients` leaves the rule's scope as it is.
 */
export interface ToolSetting {
  action: ToolAction
  rateLimit: string
  reason: string
  clients?: string
}

/** Client names from the text of the Clients cell ("a, b" → ["a", "b"]), each once. */
export function parseClients(text: string): string[] {
  const out: string[] = []
  for (const part of text.split(',')) {
    const name = part.trim()
    if (name !== '' && !out.includes(name)) out.push(name)
  }
  return out
}

function clientsText(node: unknown): string | undefined {
  if (!isSeq(node)) return undefined
  return node.items
    .map((i) => scalarText(i))
    .filter((n): n is string => n !== undefined)
    .join(', ')
}

/** The default posture choices. */
export type Posture = 'allow' | 'deny' | 'require_approval'

/** The name given to a rule the UI adds when nothing more telling fits (a reason only). */
export const UI_RULE_NAME = 'set in Airlock'

const ACTION_WORDS: Record<'allow' | 'deny' | 'require_approval', string> = {
  allow: 'allowed',
  deny: 'denied',
  require_approval: 'needs approval',
}

/**
 * The name of a rule edited in the table, saying what it does, so that what the agent is told
 * (`rate limit "echo: at most 10/minute" exceeded`) fits the rule the user wrote: e.g.
 * `echo: denied`, `echo: needs approval, at most 10/minute, for Cursor`.
 */
export function ruleNameFor(tool: string, setting: ToolSetting): string {
  const parts: string[] = []
  if (
    setting.action === 'allow' ||
    setting.action === 'deny' ||
    setting.action === 'require_approval'
  )
    parts.push(ACTION_WORDS[setting.action])
  const rate = setting.rateLimit.trim()
  if (rate !== '') parts.push(`at most ${rate}`)
  const clients = setting.clients === undefined ? [] : parseClients(setting.clients)
  if (clients.length > 0) parts.push(`for ${clients.join(', ')}`)
  return `${tool}: ${parts.length > 0 ? parts.join(', ') : UI_RULE_NAME}`
}

/** A parsed policy text, or why it cannot be edited by form. */
export type ParsedPolicy =
  { ok: true; doc: Document; json: boolean } | { ok: false; message: string }

/** Parses policy text for editing; an empty text is an empty policy. */
export function parsePolicyText(text: string): ParsedPolicy {
  const doc = parseDocument(text.trim() === '' ? '{}' : text)
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : ''
    return { ok: false, message: `${where}${e.message.split('\n')[0]}` }
  }
  if (doc.contents !== null && !isMap(doc.contents))
    return { ok: false, message: 'the policy must be a mapping (version, default, hide, tools…)' }
  return { ok: true, doc, json: text.trimStart().startsWith('{') }
}

function stringify(parsed: { doc: Document; json: boolean }): string {
  if (parsed.json) return JSON.stringify(parsed.doc.toJS(), null, 2) + '\n'
  return parsed.doc.toString()
}

function isPlainRule(node: unknown): node is YAMLMap {
  if (!isMap(node)) return false
  const conditions = node.get('conditions')
  const noConditions =
    conditions === undefined ||
    conditions === null ||
    (isSeq(conditions) && conditions.items.length === 0)
  return noConditions && !node.has('state')
}

function rulesOf(doc: Document, tool: string): YAMLSeq | undefined {
  const rules = doc.getIn(['tools', tool, 'rules'])
  return isSeq(rules) ? rules : undefined
}

function hideList(doc: Document): YAMLSeq | undefined {
  const hide = doc.get('hide')
  return isSeq(hide) ? hide : undefined
}

function scalarText(node: unknown): string | undefined {
  const v = isScalar(node) ? node.value : node
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined
}

/** The rate limit of a rule as text: "N/minute|hour|day" as written, `{max, window}` as "N/Ss". */
function rateLimitText(node: unknown): string {
  if (isMap(node)) {
    const max = scalarText(node.get('max'))
    const window = scalarText(node.get('window'))
    return max !== undefined && window !== undefined ? `${max}/${window}s` : ''
  }
  return scalarText(node) ?? ''
}

/** Parses rate limit text: "" (none), "N/minute|hour|day", or "N/Ss" (a sliding window of S seconds). */
export function parseRateLimit(
  text: string,
):
  | { ok: true; value: string | { max: number; window: number } | undefined }
  | { ok: false; message: string } {
  const t = text.trim()
  if (t === '') return { ok: true, value: undefined }
  if (/^\d+\/(minute|hour|day)$/.test(t)) return { ok: true, value: t }
  const sliding = /^(\d+)\/(\d+)s$/.exec(t)
  if (sliding) return { ok: true, value: { max: Number(sliding[1]), window: Number(sliding[2]) } }
  return {
    ok: false,
    message: 'expected "N/minute", "N/hour", "N/day" or "N/Ss" (N calls per S seconds)',
  }
}

/** The tool's setting as the text has it. */
export function readToolSetting(doc: Document, tool: string): ToolSetting {
  const hidden = hideList(doc)?.items.some((i) => scalarText(i) === tool) ?? false
  const rule = rulesOf(doc, tool)?.items.find(isPlainRule)
  const action = scalarText(rule?.get('action'))
  const ruleAction: ToolAction =
    action === 'allow' || action === 'deny' || action === 'require_approval' ? action : 'default'
  const clients = clientsText(rule?.get('clients'))
  return {
    action: hidden ? 'hide' : ruleAction,
    rateLimit: rateLimitText(rule?.get('rate_limit')),
    reason: scalarText(rule?.get('on_deny')) ?? scalarText(rule?.get('reason')) ?? '',
    ...(clients !== undefined ? { clients } : {}),
  }
}

/** The tool's rule action when it is not hidden (a rule with "default" only limits or explains). */
function ruleActionOf(setting: ToolSetting): 'allow' | 'deny' | 'require_approval' | 'evaluate' {
  return setting.action === 'allow' ||
    setting.action === 'deny' ||
    setting.action === 'require_approval'
    ? setting.action
    : 'evaluate'
}

/** The text with the tool's setting applied; throws on an unparseable text or rate limit. */
export function writeToolSetting(text: string, tool: string, setting: ToolSetting): string {
  const parsed = parsePolicyText(text)
  if (!parsed.ok) throw new Error(`the policy text has an error, fix it first: ${parsed.message}`)
  const parsedRate = parseRateLimit(setting.rateLimit)
  // Text the form does not know is written as typed: the policy check then names what is wrong
  // with the same words the YAML editor uses (checkToolSetting).
  const rate = parsedRate.ok ? parsedRate : { value: setting.rateLimit.trim() }
  const { doc } = parsed
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents

  // hide
  const hide = hideList(doc)
  const hiddenAt = hide ? hide.items.findIndex((i) => scalarText(i) === tool) : -1
  if (setting.action === 'hide') {
    if (hiddenAt < 0) {
      if (hide) hide.add(doc.createNode(tool))
      else doc.set('hide', doc.createNode([tool]))
    }
    // A hidden tool's rules stay as they were: un-hiding brings them back.
    return stringify(parsed)
  }
  if (hide && hiddenAt >= 0) hide.items.splice(hiddenAt, 1)

  // the tool's unconditional rule
  const clients = setting.clients === undefined ? undefined : parseClients(setting.clients)
  const needRule =
    setting.action !== 'default' ||
    rate.value !== undefined ||
    setting.reason.trim() !== '' ||
    (clients !== undefined && clients.length > 0)
  const rules = rulesOf(doc, tool)
  const index = rules ? rules.items.findIndex(isPlainRule) : -1
  if (!needRule) {
    if (rules && index >= 0) {
      rules.items.splice(index, 1)
      if (rules.items.length === 0) {
        doc.deleteIn(['tools', tool])
        const tools = doc.get('tools')
        if (isMap(tools) && tools.items.length === 0) doc.delete('tools')
      }
    }
    return stringify(parsed)
  }
  let rule: YAMLMap
  if (rules && index >= 0) {
    rule = rules.items[index] as YAMLMap
  } else {
    rule = doc.createNode({ name: UI_RULE_NAME }) as YAMLMap
    if (rules) rules.add(rule)
    else doc.setIn(['tools', tool, 'rules'], doc.createNode([rule]))
  }
  rule.set('action', ruleActionOf(setting))
  if (rate.value === undefined) rule.delete('rate_limit')
  else rule.set('rate_limit', doc.createNode(rate.value))
  rule.delete('reason')
  if (setting.reason.trim() === '') rule.delete('on_deny')
  else rule.set('on_deny', setting.reason.trim())
  if (clients !== undefined) {
    if (clients.length === 0) rule.delete('clients')
    else rule.set('clients', doc.createNode(clients))
  }
  // An edited rule is the user's now: the agent must not be told a proposal's name for it.
  rule.set(
    'name',
    ruleNameFor(tool, { ...setting, clients: clientsText(rule.get('clients')) ?? '' }),
  )
  return stringify(parsed)
}

/** The path prefix of a tool's entry as the policy check names it (`tools.x`, `tools["a b"]`). */
export function toolPath(tool: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(tool) ? `tools.${tool}` : `tools[${JSON.stringify(tool)}]`
}

/** The first issue of the policy check that is about `tool`'s entry, in the YAML editor's words. */
export function toolIssue(
  issues: readonly { path: string; expected: string }[],
  tool: string,
): string | undefined {
  const own = toolPath(tool)
  const issue = issues.find(
    (i) => i.path === own || i.path.startsWith(`${own}.`) || i.path.startsWith(`${own}[`),
  )
  return issue === undefined ? undefined : `${issue.path}: expected ${issue.expected}`
}

/** The `default` posture the text gives, if a valid one. */
export function readDefault(doc: Document): Posture | undefined {
  const v = scalarText(doc.get('default'))
  return v === 'allow' || v === 'deny' || v === 'require_approval' ? v : undefined
}

/** The text with `default` set to `posture`. */
export function writeDefault(text: string, posture: Posture): string {
  const parsed = parsePolicyText(text)
  if (!parsed.ok) throw new Error(`the policy text has an error, fix it first: ${parsed.message}`)
  if (parsed.doc.contents === null)
    parsed.doc.contents = parsed.doc.createNode({}) as unknown as typeof parsed.doc.contents
  parsed.doc.set('default', posture)
  if (!parsed.doc.has('version')) parsed.doc.set('version', '1')
  return stringify(parsed)
}

/** A rule of a pattern entry (`"*"`, `read_*`), as the Tools & policy screen lists it. */
export interface PatternRule {
  name: string
  action: string
  conditions: number
  rateLimit: string
  clients: string
}

/** The entries of `tools` whose key is a pattern (`"*"` or a glob): they apply to many tools. */
export function patternEntries(doc: Document): { pattern: string; rules: PatternRule[] }[] {
  const tools = doc.get('tools')
  if (!isMap(tools)) return []
  const out: { pattern: string; rules: PatternRule[] }[] = []
  for (const pair of tools.items) {
    const pattern = scalarText(pair.key)
    if (pattern === undefined || !/[*?[\]{}]/.test(pattern)) continue
    const rules = isMap(pair.value) ? pair.value.get('rules') : undefined
    out.push({
      pattern,
      rules: (isSeq(rules) ? rules.items : []).filter(isMap).map((r, i) => {
        const conditions = r.get('conditions')
        return {
          name: scalarText(r.get('name')) ?? `rule ${i + 1}`,
          action: scalarText(r.get('action')) ?? 'evaluate',
          conditions: isSeq(conditions) ? conditions.items.length : 0,
          rateLimit: rateLimitText(r.get('rate_limit')),
          clients: clientsText(r.get('clients')) ?? '',
        }
      }),
    })
  }
  // "*" first: it applies to every tool.
  return out.sort((a, b) => Number(b.pattern === '*') - Number(a.pattern === '*'))
}
