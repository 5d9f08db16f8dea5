/**
 * Patterns the policy compiles once and reuses: tool-name globs (`*`, `?`, `[abc]`, `[a-z]`,
 * `[!abc]`) and condition regexes. Both are cached by their source text.
 *
 * Condition regexes run on RE2 (re2js, a port of Go's regexp): agents write the input they match,
 * and RE2 matches in time linear in that input, where JavaScript's RegExp can backtrack for
 * minutes. It also reads Intercept's (Go) syntax as Intercept does: `[[:digit:]]`, `(?P<name>…)`,
 * `(?i)`. What RE2 does not support (backreferences, lookaround) does not compile.
 */
import { RE2JS } from 're2js'

const CACHE_LIMIT = 1000
const globCache = new Map<string, RegExp>()
const regexCache = new Map<string, ConditionRegex>()

/**
 * The longest string a regex condition matches (UTF-16 code units). A longer argument is not
 * matched at all: the engine denies the call (fail closed), since a deny rule must not be evaded
 * by padding and an allow rule must not be satisfied by a prefix. RE2 takes ~10 ms here.
 */
export const REGEX_INPUT_LIMIT = 65_536

/** A compiled condition regex: an unanchored search, like `RegExp.prototype.test`. */
export interface ConditionRegex {
  readonly source: string
  test(input: string): boolean
}

/** A condition regex RE2 refuses. `offset` is where in the pattern the fault starts (0-based). */
export class ConditionRegexError extends SyntaxError {
  override readonly name = 'ConditionRegexError'
  readonly code = 'REGEX_INVALID'
  constructor(
    message: string,
    readonly offset: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

function remember<T>(cache: Map<string, T>, key: string, re: T): T {
  // Policies are small; the limit only guards a long-running gateway against endless reloads.
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(key, re)
  return re
}

/** True when the pattern uses glob syntax (`*`, `?` or `[`); otherwise it is an exact name. */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern)
}

/** Compiles a glob to an anchored RegExp (cached). Throws an Error on an unclosed `[`. */
export function compileGlob(pattern: string): RegExp {
  const cached = globCache.get(pattern)
  if (cached) return cached
  let src = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '*') src += '.*'
    else if (ch === '?') src += '.'
    else if (ch === '[') {
      let j = i + 1
      if (pattern[j] === '!' || pattern[j] === '^') j++
      if (pattern[j] === ']') j++ // a leading "]" is a member, not the end
      const close = pattern.indexOf(']', j)
      if (close < 0) throw new Error(`unclosed "[" in "${pattern}"`)
      let body = pattern.slice(i + 1, close)
      const negate = body.startsWith('!') || body.startsWith('^')
      if (negate) body = body.slice(1)
      src += `[${negate ? '^' : ''}${body.replace(/[\\\]^[]/g, '\\$&')}]`
      i = close
    } else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return remember(globCache, pattern, new RegExp(`^${src}$`, 's'))
}

/** Whether `name` matches `pattern` (exact names compare by equality). Invalid globs never match. */
export function globMatches(pattern: string, name: string): boolean {
  if (!isGlob(pattern)) return pattern === name
  try {
    return compileGlob(pattern).test(name)
  } catch {
    return false
  }
}

/** The number of literal (non-wildcard) characters: the higher, the more specific the glob. */
export function globSpecificity(pattern: string): number {
  return pattern.replace(/\[[^\]]*\]|[*?]/g, '').length
}

/**
 * The entry that governs `name`: the exact name first, else the most specific matching glob
 * (more literal characters, then fewer `*`, then the first declared). `"*"` is never returned:
 * it is the wildcard bucket, not a tool entry.
 */
export function findToolEntry<T extends { pattern: string }>(
  entries: readonly T[],
  name: string,
): T | undefined {
  const exact = entries.find((e) => e.pattern === name && e.pattern !== '*' && !isGlob(e.pattern))
  if (exact) return exact
  let best: T | undefined
  for (const e of entries) {
    if (e.pattern === '*' || !isGlob(e.pattern) || !globMatches(e.pattern, name)) continue
    if (!best || moreSpecific(e.pattern, best.pattern)) best = e
  }
  return best
}

function moreSpecific(a: string, b: string): boolean {
  const d = globSpecificity(a) - globSpecificity(b)
  if (d !== 0) return d > 0
  return stars(a) < stars(b)
}

function stars(p: string): number {
  return p.split('*').length - 1
}

/**
 * Compiles a condition regex with RE2 semantics (cached). Throws ConditionRegexError, naming the
 * offending part and its offset, when RE2 refuses the pattern (syntax errors, backreferences,
 * lookahead and lookbehind, repeat counts over 1000).
 */
export function compileConditionRegex(pattern: string): ConditionRegex {
  const cached = regexCache.get(pattern)
  if (cached) return cached
  let re: RE2JS
  try {
    re = RE2JS.compile(pattern)
  } catch (err) {
    throw regexError(pattern, err)
  }
  return remember(regexCache, pattern, { source: pattern, test: (input) => re.test(input) })
}

function regexError(pattern: string, err: unknown): ConditionRegexError {
  const e = err as { message?: unknown; error?: unknown; input?: unknown }
  const what = typeof e.error === 'string' ? e.error : String(e.message ?? err)
  const part = typeof e.input === 'string' ? e.input : undefined
  const found = part === undefined || part === '' ? -1 : pattern.indexOf(part)
  const offset = found >= 0 ? found : undefined
  const hint = /^\(\?<?[=!]/.test(part ?? '')
    ? ' (RE2 has no lookahead or lookbehind)'
    : /^\\[0-9]/.test(part ?? '')
      ? ' (RE2 has no backreferences)'
      : ''
  const at = offset === undefined ? '' : ` at character ${offset + 1}`
  const shown = part === undefined || part === '' ? '' : `: \`${part}\``
  return new ConditionRegexError(`${what}${shown}${at}${hint}`, offset, { cause: err })
}
