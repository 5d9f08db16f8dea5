/**
 * Patterns the policy compiles once and reuses: tool-name globs (`*`, `?`, `[abc]`, `[a-z]`,
 * `[!abc]`) and condition regexes. Both are cached by their source text.
 */

const CACHE_LIMIT = 1000
const globCache = new Map<string, RegExp>()
const regexCache = new Map<string, RegExp>()

function remember(cache: Map<string, RegExp>, key: string, re: RegExp): RegExp {
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
 * Compiles a condition regex (cached). Intercept's patterns are Go RE2; a leading inline flag group
 * such as `(?i)` becomes a JavaScript flag. Throws SyntaxError when the pattern does not compile.
 */
export function compileConditionRegex(pattern: string): RegExp {
  const cached = regexCache.get(pattern)
  if (cached) return cached
  const m = /^\(\?([ims]+)\)/.exec(pattern)
  const flags = m ? [...new Set(m[1])].join('') : ''
  return remember(regexCache, pattern, new RegExp(m ? pattern.slice(m[0].length) : pattern, flags))
}
