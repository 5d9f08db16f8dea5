/**
 * Risk classes of MCP tools, and the policy Airlock proposes for a server added without one.
 *
 * A tool's class comes from its name (the verb, and nouns such as "payment" or "password"), a few
 * unambiguous phrases of its description, and its MCP annotations. Everything here is written
 * by the server and may be wrong; annotations in particular may only make a class STRICTER
 * (`readOnlyHint: true` on `delete_repo` leaves it critical). Pure: no Node, no I/O.
 */
import type { Category, Risk } from './contract/control-api'
import { escapeUnsafe } from './text'

/** What classification reads of a tool (the fields of an MCP `Tool`). */
export interface ToolInfo {
  name: string
  title?: string
  description?: string
  annotations?: Record<string, unknown>
}

/** A tool's class. */
export interface ToolClass {
  category: Category
  risk: Risk
  /** The word, phrase or annotation that set the class (`"logout"`, `destructiveHint`), when one did. */
  because?: string
}

/** Risk classes, lowest first. */
export const RISKS: readonly Risk[] = ['low', 'medium', 'high', 'critical']

/** Orders risks: negative when `a` is lower than `b`. */
export function compareRisk(a: Risk, b: Risk): number {
  return RISKS.indexOf(a) - RISKS.indexOf(b)
}

type Entry = ToolClass

const e = (category: Category, risk: Risk): Entry => ({ category, risk })
/** An entry with the evidence that chose it. */
const by = (entry: Entry, because: string): Entry => ({ ...entry, because })

/** Verbs, exact (after light stemming). The first verb of a name decides; later exact verbs can raise. */
const VERBS = new Map<string, Entry>()
const put = (words: string, entry: Entry): void => {
  for (const w of words.split(/\s+/).filter(Boolean)) VERBS.set(w, entry)
}
put(
  'get list read search find query show describe view lookup look count check inspect stat stats info open browse echo ping explain validate ' +
    'preview diff status print resolve retrieve summarize analyze analyse compare calculate compute estimate head tail cat ls grep whoami version help sum ' +
    'tree exists has is suggest recommend',
  e('read', 'low'),
)
put('fetch download crawl scrape', e('read', 'medium'))
put(
  'create add update edit set write put patch insert upsert modify rename move copy upload save append replace toggle enable disable configure ' +
    'import commit tag label assign mark star pin schedule start stop trigger sync generate make build compress gzip zip unzip extract mkdir touch ' +
    'new register subscribe unsubscribe lock unlock close reopen fork clone archive cancel restore submit record log store cache convert apply place',
  e('write', 'medium'),
)
put('push merge release approve install restart', e('write', 'high'))
// Deploying runs new code where it serves people.
put('deploy redeploy', e('execute', 'critical'))
put(
  'send post email mail notify publish tweet sms reply comment forward broadcast announce respond invite share',
  e('communication', 'high'),
)
put(
  'delete del remove rm drop destroy purge wipe erase truncate unlink nuke shred obliterate',
  e('destructive', 'critical'),
)
put(
  'kill terminate reset clear overwrite uninstall revert rollback flush evict prune clean cleanup discard empty ban block',
  e('destructive', 'high'),
)
put(
  'exec execute shell bash sh zsh cmd powershell pwsh eval terminal command sudo',
  e('execute', 'critical'),
)
put('run invoke spawn launch script interpret evaluate', e('execute', 'high'))
put(
  'transfer charge pay refund purchase buy withdraw payout trade sell',
  e('financial', 'critical'),
)
put('logout signout revoke deauthorize unauthorize impersonate', e('auth', 'critical'))
put(
  'login signin authenticate auth authorize grant elevate promote chmod chown rotate',
  e('auth', 'high'),
)

/** Prefixes that classify a name's FIRST token written as one word (`transferfunds`, `execsql`, `paynow`). */
const PREFIXES: readonly [RegExp, Entry][] = [
  [/^exec/, e('execute', 'critical')],
  [/^transfer/, e('financial', 'critical')],
  [/^charge(?!back)/, e('financial', 'critical')],
  [/^refund/, e('financial', 'critical')],
  [/^pay(?!load|ment)/, e('financial', 'critical')],
  [/^destroy/, e('destructive', 'critical')],
  [/^delete/, e('destructive', 'critical')],
  [/^drop(?!down)/, e('destructive', 'critical')],
  [/^revoke/, e('auth', 'critical')],
  [/^logout/, e('auth', 'critical')],
]

/**
 * Verbs that raise a class wherever they stand in a name (`get_and_delete`). Other words after
 * the first verb are usually nouns (`get_comment`, `read_email`) and do not count.
 */
const STRONG = new Set(
  'delete remove drop destroy purge wipe erase truncate unlink nuke shred exec execute eval sudo transfer charge pay refund purchase withdraw payout logout signout revoke deauthorize impersonate deploy redeploy'.split(
    ' ',
  ),
)

/** Two-token verbs (`log_out`, `sign_out`, `run_command`). */
const PAIRS = new Map<string, Entry>([
  ['log out', e('auth', 'critical')],
  ['sign out', e('auth', 'critical')],
  ['log in', e('auth', 'high')],
  ['sign in', e('auth', 'high')],
  ['run command', e('execute', 'critical')],
  ['run shell', e('execute', 'critical')],
  ['run script', e('execute', 'critical')],
])

/** Nouns that make a writing verb stricter, or classify a name without a verb. */
const FINANCIAL_NOUNS = new Set([
  'payment',
  'payments',
  'invoice',
  'invoices',
  'funds',
  'money',
  'wallet',
  'card',
  'cards',
  'bank',
  'balance',
  'transaction',
  'transactions',
  'billing',
  'order',
  'orders',
])
const AUTH_NOUNS = new Set([
  'token',
  'tokens',
  'password',
  'passwords',
  'credential',
  'credentials',
  'secret',
  'secrets',
  'apikey',
  'apikeys',
  'permission',
  'permissions',
  'role',
  'roles',
  'oauth',
  'mfa',
  'otp',
  'env',
  'environment',
])
const EXECUTE_NOUNS = new Set([
  'shell',
  'command',
  'commands',
  'terminal',
  'bash',
  'script',
  'scripts',
  'subprocess',
])

/**
 * What running something may run: code, queries in a programming language, containers, functions,
 * rollbacks. `run_sql`, `invoke_lambda`, `run_container` run arbitrary work: critical.
 */
const CODE_NOUNS = new Set([
  'code',
  'script',
  'scripts',
  'javascript',
  'js',
  'python',
  'sql',
  'container',
  'containers',
  'lambda',
  'function',
  'functions',
  'rollback',
  'migration',
  'migrations',
])
/** What a clearing verb (`clear`, `prune`, `reset`) may wipe as a whole: critical. */
const STORE_NOUNS = new Set([
  'all',
  'everything',
  'data',
  'graph',
  'database',
  'databases',
  'db',
  'memory',
  'store',
  'storage',
  'index',
  'table',
  'tables',
  'bucket',
  'collection',
])
/** Running code or SQL, as a description of a tool whose name runs something says it. */
const RUNS_CODE =
  /\b(?:execut|run|invok|evaluat)\w* (?:(?:an?|the|any|arbitrary|raw|custom|individual|multiple|deployed|given|provided|one|\w+-\w+) )*(?:\w+ )?(sql|javascript|js|python|code|scripts?|functions?|lambdas?|containers?)\b/i
/** A description that says the tool only reads: keeps a description from raising a run to critical. */
const SAYS_READ_ONLY = /\bread[- ]only\b|\bin read mode\b/i

/** Description phrases that only ever make a class stricter. */
const PHRASES: readonly [RegExp, Entry][] = [
  [
    /\b(permanently|irreversibl[ey]|cannot be undone|can't be undone|can not be undone)\b/i,
    e('destructive', 'high'),
  ],
  [
    /\b(execut|run)(e|es|s|ing)? (?:(?:an?|any|arbitrary|the) )*(shell|system|terminal|bash|os) commands?\b/i,
    e('execute', 'critical'),
  ],
  [/\barbitrary (code|commands?)\b/i, e('execute', 'critical')],
  [/\b(transfer|send|move)s? (money|funds|payments?)\b/i, e('financial', 'critical')],
  [/\b(charges?|bills?) (the |a )?(customer|card|user|account)\b/i, e('financial', 'critical')],
  [/\b(sends?|posts?) (an? )?(email|e-mail|message|sms|tweet)s?\b/i, e('communication', 'high')],
  [
    /\b(clear|delete|remove|erase|wipe|purge|drop|reset)(s|es)? (?:the )?(all|every|entire|everything)\b/i,
    e('destructive', 'critical'),
  ],
]

/** Splits a tool name into lowercase words: `deleteRepo`, `delete-repo`, `repo.delete` → words. */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
}

function stems(word: string): string[] {
  const out = [word]
  if (word.endsWith('ies') && word.length > 4) out.push(`${word.slice(0, -3)}y`)
  if (word.endsWith('es') && word.length > 3) out.push(word.slice(0, -2))
  if (word.endsWith('s') && word.length > 2) out.push(word.slice(0, -1))
  if (word.endsWith('ing') && word.length > 5) out.push(word.slice(0, -3), `${word.slice(0, -3)}e`)
  if (word.endsWith('ed') && word.length > 4) out.push(word.slice(0, -2), word.slice(0, -1))
  return out
}

/** The stricter of two entries; `a` when they tie (the first evidence stays). */
function stricter(a: Entry | undefined, b: Entry): Entry
function stricter(a: Entry, b: Entry | undefined): Entry
function stricter(a: Entry | undefined, b: Entry | undefined): Entry | undefined {
  if (a === undefined) return b
  return b && compareRisk(b.risk, a.risk) > 0 ? b : a
}

function verbOf(word: string, stem: boolean): Entry | undefined {
  for (const w of stem ? stems(word) : [word]) {
    const hit = VERBS.get(w)
    if (hit) return by(hit, word)
  }
  return undefined
}

/** The class a name gives: its first verb (stemmed), raised by strong verbs anywhere and by nouns. */
function byName(tokens: string[]): Entry | undefined {
  let decided: Entry | undefined
  const first = tokens[0]
  if (first !== undefined) {
    const hit = PREFIXES.find(([re]) => re.test(first))?.[1]
    if (hit) decided = by(hit, first)
  }
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i] as string
    const pair = i + 1 < tokens.length ? PAIRS.get(`${word} ${tokens[i + 1]}`) : undefined
    if (pair) decided = stricter(decided, by(pair, `${word}_${tokens[i + 1]}`))
    if (decided === undefined) decided = verbOf(word, true)
    else if (STRONG.has(word)) decided = stricter(decided, verbOf(word, false))
  }
  // Nouns, and two-word nouns written apart (`api_key` → "apikey").
  const nouns = new Set(tokens)
  for (let i = 0; i + 1 < tokens.length; i++) nouns.add(`${tokens[i]}${tokens[i + 1]}`)
  const noun = (set: Set<string>): string | undefined => [...nouns].find((n) => set.has(n))
  const raise = (set: Set<string>, entry: Entry): Entry | undefined => {
    const n = noun(set)
    return n === undefined ? undefined : by(entry, n)
  }
  if (decided === undefined) {
    return (
      raise(EXECUTE_NOUNS, e('execute', 'high')) ??
      raise(FINANCIAL_NOUNS, e('financial', 'high')) ??
      raise(AUTH_NOUNS, e('auth', 'high'))
    )
  }
  switch (decided.category) {
    case 'read':
      // Reading secrets or money is still a read, but not a harmless one.
      return stricter(
        decided,
        raise(AUTH_NOUNS, e('read', 'medium')) ?? raise(FINANCIAL_NOUNS, e('read', 'medium')),
      )
    case 'write':
    case 'communication':
      return stricter(
        decided,
        raise(FINANCIAL_NOUNS, e('financial', 'high')) ??
          raise(AUTH_NOUNS, e('auth', 'high')) ??
          raise(EXECUTE_NOUNS, e('execute', 'high')),
      )
    case 'execute':
      // Running code, SQL, a container or a function can do anything the server can.
      return stricter(decided, raise(CODE_NOUNS, e('execute', 'critical')))
    case 'destructive':
      // Clearing a whole store (`clear_graph`, `reset_database`) loses everything in it.
      return stricter(decided, raise(STORE_NOUNS, e('destructive', 'critical')))
    default:
      return decided
  }
}

/** Classes by name alone, memoized (bounded: cleared when full); see {@link classifyName}. */
const BY_NAME = new Map<string, ToolClass>()
const BY_NAME_MAX = 4096

/**
 * `classifyTool({ name })`, memoized: the risk floor asks it on every call. The class returned
 * is shared: callers must not change it.
 */
export function classifyName(name: string): ToolClass {
  let cls = BY_NAME.get(name)
  if (cls === undefined) {
    if (BY_NAME.size >= BY_NAME_MAX) BY_NAME.clear()
    cls = classifyTool({ name })
    BY_NAME.set(name, cls)
  }
  return cls
}

/**
 * Classifies a tool from its name, title, description and MCP annotations. Annotations only
 * make a class stricter: `destructiveHint: true` → at least destructive/high,
 * `readOnlyHint: false` → at least write/medium, `openWorldHint: true` → at least medium;
 * `readOnlyHint: true` or `destructiveHint: false` never lower anything. A name with no known
 * verb is classified by its description's first word, else as write/medium. A name that runs
 * something is critical when its description says it runs code, SQL, functions or containers
 * (unless the description says it only reads). `because` names the evidence that set the class.
 */
export function classifyTool(tool: ToolInfo): ToolClass {
  const fromName = byName(nameTokens(tool.name))
  let cls = fromName
  const description = typeof tool.description === 'string' ? tool.description.slice(0, 4096) : ''
  if (cls === undefined) {
    const firstWord = nameTokens(description.split(/\s+/, 1)[0] ?? '')[0]
    const title = typeof tool.title === 'string' ? byName(nameTokens(tool.title)) : undefined
    cls =
      title ??
      (firstWord === undefined ? undefined : verbOf(firstWord, true)) ??
      e('write', 'medium')
  }
  for (const [re, entry] of PHRASES) {
    const m = re.exec(description)
    if (m) cls = stricter(cls, by(entry, m[0]))
  }
  if (fromName?.category === 'execute' && !SAYS_READ_ONLY.test(description)) {
    const m = RUNS_CODE.exec(description)
    if (m) cls = stricter(cls, by(e('execute', 'critical'), m[0]))
  }
  const a = tool.annotations ?? {}
  if (a.destructiveHint === true)
    cls = stricter(
      cls,
      by(
        e(
          cls.category === 'read' || cls.category === 'write' ? 'destructive' : cls.category,
          'high',
        ),
        'destructiveHint',
      ),
    )
  if (a.readOnlyHint === false && cls.category === 'read')
    cls = {
      category: 'write',
      risk: compareRisk(cls.risk, 'medium') > 0 ? cls.risk : 'medium',
      because: 'readOnlyHint: false',
    }
  if (a.openWorldHint === true && cls.risk === 'low')
    cls = { category: cls.category, risk: 'medium', because: 'openWorldHint' }
  const out: ToolClass = { category: cls.category, risk: cls.risk }
  if (cls.because !== undefined) out.because = oneLine(cls.because).slice(0, 80)
  return out
}

/**
 * Why a tool is in its class, in words: `auth — "logout"` (the category and the evidence), or
 * the category alone when no single word decided.
 */
export function classReason(cls: ToolClass): string {
  if (cls.because === undefined) return cls.category
  const annotation = /^(destructiveHint|openWorldHint|readOnlyHint: false)$/.test(cls.because)
  return `${cls.category} — ${annotation ? cls.because : JSON.stringify(cls.because)}`
}

/** The action a proposed policy gives a tool of a class under a default posture. */
export function proposedAction(
  cls: ToolClass,
  defaultPosture: 'allow' | 'deny' | 'require_approval',
): 'allow' | 'deny' | 'require_approval' {
  if (cls.risk === 'low') return 'allow'
  if (cls.risk === 'critical') return 'require_approval'
  return defaultPosture
}

/**
 * A policy (Intercept format, version "1", YAML) for a server added without one: read-only
 * (low-risk) tools allowed, critical tools `require_approval`, the rest per `defaultPosture`,
 * which is also the policy's `default` for tools not listed. Each tool's class is a comment.
 */
export function proposePolicy(
  tools: readonly ToolInfo[],
  defaultPosture: 'allow' | 'deny' | 'require_approval',
): string {
  const lines = [
    '# Proposed by Airlock for a server that had no policy: review it, then save it.',
    '# Read-only (low-risk) tools are allowed, critical tools need your approval,',
    `# the others follow your default posture (${defaultPosture}).`,
    'version: "1"',
    'description: "Proposed by Airlock from the tools\' risk classes"',
    `default: ${defaultPosture}`,
  ]
  const seen = new Set<string>()
  const unique = tools.filter(
    (t) => typeof t.name === 'string' && t.name !== '' && !seen.has(t.name) && seen.add(t.name),
  )
  if (unique.length === 0) {
    lines.push(
      '# No tools are known yet: discover them (tools.list with discover) to get per-tool rules.',
      'tools: {}',
    )
    return lines.join('\n') + '\n'
  }
  lines.push('tools:')
  for (const t of unique) {
    const cls = classifyTool(t)
    const action = proposedAction(cls, defaultPosture)
    lines.push(`  # ${oneLine(t.name)}: ${cls.category}, ${cls.risk} risk`)
    lines.push(`  ${JSON.stringify(t.name)}:`)
    lines.push('    rules:')
    lines.push(`      - name: ${JSON.stringify(`${cls.risk}-${cls.category}`)}`)
    lines.push(`        action: ${action}`)
  }
  return lines.join('\n') + '\n'
}

/** A tool name made safe for a YAML comment (one line, no control characters). */
function oneLine(text: string): string {
  return escapeUnsafe(text, () => ' ').slice(0, 200)
}
