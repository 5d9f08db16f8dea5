/**
 * Redaction and size caps for what the agent sends: call arguments are written by the agent and
 * may be hostile (secrets, megabytes, cycles, absurd depth). Everything here is bounded in time
 * and stack: depth, array items, object keys and visited nodes are all capped. Copies are
 * prototype-less objects, so keys such as `__proto__` or `constructor` are kept byte for byte.
 */

/** Replacement for the value of a secret-looking key. */
export const REDACTED = '[REDACTED]'

/** Limits of {@link capArgs}; every field has a default. */
export interface ArgsLimits {
  /** Max bytes of the args as JSON (default 4096). */
  maxBytes?: number
  /** Nesting deeper than this becomes "[max depth]" (default 16). */
  maxDepth?: number
  /** Array items kept (default 100); the rest is summarised. */
  maxItems?: number
  /** Object keys kept (default 100); the rest is summarised. */
  maxKeys?: number
  /** Objects, arrays and values visited before the rest is dropped (default 5000). */
  maxNodes?: number
}

/** Default `argsMaxBytes`. */
export const DEFAULT_ARGS_MAX_BYTES = 4096

// Substrings of a key (lowercased, separators removed) that mark a secret.
const SECRET_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'credential',
  'privatekey',
  'cookie',
  'session',
]
// Counts of model tokens are not secrets.
const TOKEN_COUNT =
  /^(max|min|num|total|input|output|prompt|completion)tokens?$|tokens?(count|limit|used)$/

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '')
}

// "auth" only as a word (auth, x-auth, authHeader, basic_auth), not inside "author" or "oauthor".
function hasAuthWord(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
  return words.includes('auth')
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`, 'i')
}

/**
 * A predicate for keys whose values are redacted: the built-in secret-looking names
 * (password, passwd, passphrase, secret, token, api_key/apikey, authorization, auth, cookie,
 * credential, private_key, session — case-insensitive, matched inside longer names such as
 * `github_token` or `X-Api-Key`) plus `extraKeys`: exact names, case-insensitive, `*` a wildcard.
 */
export function secretKeyMatcher(extraKeys: readonly string[] = []): (key: string) => boolean {
  const exact = new Set<string>()
  const globs: RegExp[] = []
  for (const k of extraKeys) {
    if (k.includes('*')) globs.push(globToRegExp(k))
    else exact.add(k.toLowerCase())
  }
  // Keys repeat from call to call; a bounded cache keeps the check to one Map lookup.
  const cache = new Map<string, boolean>()
  return (key: string): boolean => {
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    const n = normalizeKey(key)
    const secret =
      (SECRET_PARTS.some((p) => n.includes(p)) && !TOKEN_COUNT.test(n)) ||
      hasAuthWord(key) ||
      exact.has(key.toLowerCase()) ||
      globs.some((g) => g.test(key))
    if (key.length <= 128) {
      if (cache.size >= 2048) cache.clear()
      cache.set(key, secret)
    }
    return secret
  }
}

// Secret values, whatever the key: each pattern is linear in the input (every quantified class is
// followed by a character it cannot contain, or by the end), tested on 1 MB hostile strings.
const SECRET_VALUES: readonly RegExp[] = [
  /\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g, // JWT (header and payload are base64url JSON)
  /\bsk-[\w-]{16,}/g, // OpenAI, Anthropic (sk-ant-…), Stripe secret keys
  /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})/g, // GitHub tokens
  /\bxox[abposre]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, // AWS access key ids
  /-----BEGIN [A-Z0-9 ]{0,64}-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,64}-----|$)/g, // PEM blocks, cut or whole
]
// Cheap pre-test: a string with none of these cannot hold a secret value.
const SECRET_HINT = /eyJ|sk-|gh[pousr]_|github_pat_|xox[abposre]-|A[KS]IA|-----BEGIN|[=:]/
// `NAME=value` (also `export NAME=value`, `NAME: value`, `"NAME": "value"`) on one line.
const NAME_VALUE_LINE =
  /^([ \t]*(?:export[ \t]+)?["']?([A-Za-z_][\w.-]{0,127})["']?[ \t]*[=:][ \t]*)(.+)$/gm

/**
 * `text` with secret-looking values replaced by "[REDACTED]": JWTs, `sk-…` API keys, GitHub
 * (`ghp_…`, `github_pat_…`) and Slack (`xox…`) tokens, AWS access key ids, PEM blocks (also when
 * cut off), and the value of each `NAME=value` or `NAME: value` line whose NAME `isSecretName`
 * accepts (e.g. `GITHUB_TOKEN=…`). Linear time; the same text comes back when nothing matched.
 */
export function redactSecretValues(text: string, isSecretName: (key: string) => boolean): string {
  if (!SECRET_HINT.test(text)) return text
  let out = text
  for (const re of SECRET_VALUES) out = out.replace(re, REDACTED)
  if (out.includes('=') || out.includes(':')) {
    out = out.replace(NAME_VALUE_LINE, (line: string, head: string, name: string, value: string) =>
      isSecretName(name) && value !== REDACTED ? `${head}${REDACTED}` : line,
    )
  }
  return out
}

/**
 * {@link redactSecretValues} for an excerpt made by `excerpt()` (src/shared/excerpt.ts), which
 * writes line breaks as the text `\u000a` / `\u000d`: each such line is redacted on its own.
 */
export function redactExcerpt(text: string, isSecretName: (key: string) => boolean): string {
  if (!text.includes('\\u000')) return redactSecretValues(text, isSecretName)
  return text
    .split(/(\\u000[ad])/)
    .map((part, i) => (i % 2 === 0 ? redactSecretValues(part, isSecretName) : part))
    .join('')
}

/**
 * Cuts a string to `max` UTF-16 units with a "…[truncated N chars]" marker; shorter strings pass.
 * `dropped` counts characters already cut off before `text` (they are added to N).
 */
export function truncateText(text: string, max: number, dropped = 0): string {
  if (text.length <= max && dropped === 0) return text
  let cut = Math.min(text.length, Math.max(0, max))
  // Do not split a surrogate pair.
  const code = text.charCodeAt(cut - 1)
  if (cut < text.length && code >= 0xd800 && code <= 0xdbff) cut--
  return `${text.slice(0, cut)}…[truncated ${text.length - cut + dropped} chars]`
}

/**
 * How far past the kept part a long string is still scanned for secrets: a secret that starts in
 * the kept part and runs past the cut (a long JWT) is still recognised, and a 5 MiB argument costs
 * a scan of what is kept, not of all of it.
 */
const REDACT_MARGIN = 16 * 1024

interface WalkContext {
  isSecret: (key: string) => boolean
  strCap: number
  maxDepth: number
  maxItems: number
  maxKeys: number
  nodes: number
  maxNodes: number
  /** Approximate JSON size emitted so far, and where the walk stops copying. */
  size: number
  sizeCap: number
  ancestors: Set<object>
}

function walk(value: unknown, depth: number, ctx: WalkContext): unknown {
  if (ctx.size > ctx.sizeCap) return '[…]'
  switch (typeof value) {
    case 'string': {
      const head =
        value.length > ctx.strCap + REDACT_MARGIN
          ? value.slice(0, ctx.strCap + REDACT_MARGIN)
          : value
      const s = truncateText(
        redactSecretValues(head, ctx.isSecret),
        ctx.strCap,
        value.length - head.length,
      )
      ctx.size += s.length + 2
      return s
    }
    case 'number':
      ctx.size += 8
      return Number.isFinite(value) ? value : String(value)
    case 'boolean':
      return value
    case 'bigint':
      return truncateText(value.toString(), ctx.strCap)
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
  }
  if (value === null) return null
  const obj = value as object
  if (++ctx.nodes > ctx.maxNodes) return '[…]'
  if (depth >= ctx.maxDepth) return '[max depth]'
  if (ctx.ancestors.has(obj)) return '[circular]'
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString()
  if (ArrayBuffer.isView(obj)) return `[binary ${obj.byteLength} bytes]`
  ctx.ancestors.add(obj)
  ctx.size += 2
  try {
    if (Array.isArray(obj)) {
      const n = Math.min(obj.length, ctx.maxItems)
      const out: unknown[] = []
      for (let i = 0; i < n; i++) {
        if (ctx.nodes >= ctx.maxNodes) {
          out.push(`…[${obj.length - i} more items]`)
          return out
        }
        ctx.nodes++
        const v = walk(obj[i], depth + 1, ctx)
        out.push(v === undefined ? null : v)
      }
      if (obj.length > n) out.push(`…[${obj.length - n} more items]`)
      return out
    }
    // No prototype: a key named "__proto__" is an own key like any other, kept byte for byte.
    const out = Object.create(null) as Record<string, unknown>
    let kept = 0
    let total = 0
    for (const key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue
      total++
      if (kept >= ctx.maxKeys || ctx.nodes >= ctx.maxNodes) continue
      kept++
      ctx.nodes++
      ctx.size += key.length + 4
      const v = ctx.isSecret(key)
        ? REDACTED
        : walk((obj as Record<string, unknown>)[key], depth + 1, ctx)
      if (v !== undefined) out[truncateText(key, 256)] = v
      // Stop counting past a large bound: enough for the summary, bounded in time.
      if (total > ctx.maxKeys + 100_000) break
    }
    if (total > kept) out['…'] = `[${total - kept} more keys]`
    return out
  } finally {
    ctx.ancestors.delete(obj)
  }
}

/**
 * Rough size in bytes of a value as JSON (string lengths in UTF-16 units), for the `bytes`
 * field of a truncated excerpt. Visits at most 100 000 nodes: a lower bound past that.
 */
export function estimateJsonBytes(value: unknown): number {
  let budget = 100_000
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  let bytes = 0
  while (stack.length > 0 && budget-- > 0) {
    const v = stack.pop()
    switch (typeof v) {
      case 'string':
        bytes += v.length + 2
        continue
      case 'number':
      case 'boolean':
      case 'bigint':
        bytes += String(v).length
        continue
      case 'undefined':
      case 'function':
      case 'symbol':
        continue
    }
    if (v === null) {
      bytes += 4
      continue
    }
    const obj = v as object
    if (seen.has(obj)) continue
    seen.add(obj)
    if (Array.isArray(obj)) {
      bytes += 2 + Math.max(0, obj.length - 1)
      const n = Math.min(obj.length, budget)
      for (let i = 0; i < n; i++) stack.push(obj[i])
    } else {
      bytes += 2
      for (const key in obj) {
        if (!Object.prototype.hasOwnProperty.call(obj, key)) continue
        bytes += key.length + 4
        stack.push((obj as Record<string, unknown>)[key])
        if (stack.length > budget) break
      }
    }
  }
  return bytes
}

/**
 * A redacted, size-capped copy of call arguments whose JSON is at most `maxBytes` bytes:
 * secret-looking keys (see {@link secretKeyMatcher}) get "[REDACTED]" at any depth; long
 * strings are cut with "…[truncated N chars]"; long arrays, wide objects, deep nesting and
 * cycles are summarised; if that is still too big the result is
 * `{ _truncated: true, excerpt: "<first bytes of the redacted JSON>", bytes: <original size> }`.
 */
export function capArgs(
  args: unknown,
  isSecret: (key: string) => boolean,
  limits: ArgsLimits = {},
): unknown {
  return capArgsWithJson(args, isSecret, limits)?.value
}

/** {@link capArgs} plus the JSON of its result, so the writer serializes it only once. */
export function capArgsWithJson(
  args: unknown,
  isSecret: (key: string) => boolean,
  limits: ArgsLimits = {},
): { value: unknown; json: string } | undefined {
  const maxBytes = limits.maxBytes ?? DEFAULT_ARGS_MAX_BYTES
  const fast = fastCopy(args, isSecret, maxBytes, limits)
  if (fast !== undefined) return fast
  const base = {
    isSecret,
    maxDepth: limits.maxDepth ?? 16,
    maxItems: limits.maxItems ?? 100,
    maxKeys: limits.maxKeys ?? 100,
    nodes: 0,
    maxNodes: limits.maxNodes ?? 5000,
    size: 0,
    // Copying stops well past the limit: enough to know it is too big and to take an excerpt.
    sizeCap: 2 * maxBytes + 1024,
  }
  // Pass 1 keeps any string that could fit; pass 2 cuts strings hard. Each pass copies about
  // sizeCap bytes at most, and the common small call finishes after pass 1.
  let json = ''
  for (const strCap of [maxBytes, Math.max(32, Math.floor(maxBytes / 16))]) {
    const value = walk(args, 0, { ...base, strCap, ancestors: new Set() })
    if (value === undefined) return undefined
    json = JSON.stringify(value)
    // A UTF-16 unit is at most 3 UTF-8 bytes: short JSON needs no byte count.
    if (
      json.length * 3 <= maxBytes ||
      (json.length <= maxBytes && Buffer.byteLength(json) <= maxBytes)
    ) {
      return { value, json }
    }
  }
  const value = excerpt(json, estimateJsonBytes(args), maxBytes)
  return { value, json: JSON.stringify(value) }
}

/** Returned by {@link copyPlain} when a value needs the full walk. */
const SLOW: unique symbol = Symbol('slow')

interface FastState {
  isSecret: (key: string) => boolean
  strCap: number
  maxDepth: number
  maxItems: number
  maxKeys: number
  nodes: number
  maxNodes: number
}

/**
 * The common case of {@link capArgsWithJson}: small plain JSON data (plain objects, arrays,
 * strings, finite numbers, booleans, null) where no key at any depth is secret-looking or long,
 * no string, array or object is over its cap, nothing is too deep and the JSON is far under
 * `maxBytes`. For such data the walk would return an exact copy, so this returns the same copy
 * without the walk's bookkeeping. Anything else (undefined is `SLOW`) goes the general way.
 */
function fastCopy(
  args: unknown,
  isSecret: (key: string) => boolean,
  maxBytes: number,
  limits: ArgsLimits,
): { value: unknown; json: string } | undefined {
  if (typeof args !== 'object' || args === null) return undefined
  const st: FastState = {
    isSecret,
    strCap: maxBytes,
    maxDepth: limits.maxDepth ?? 16,
    maxItems: limits.maxItems ?? 100,
    maxKeys: limits.maxKeys ?? 100,
    nodes: 0,
    maxNodes: limits.maxNodes ?? 5000,
  }
  const value = copyPlain(args, 0, st)
  if (value === SLOW) return undefined
  const json = JSON.stringify(value)
  // Same bound as the general path's first test: short JSON fits whatever its UTF-8 size.
  return json.length * 3 <= maxBytes ? { value, json } : undefined
}

function copyPlain(value: unknown, depth: number, st: FastState): unknown {
  switch (typeof value) {
    case 'string': {
      const s = redactSecretValues(value, st.isSecret)
      return s.length <= st.strCap ? s : SLOW
    }
    case 'number':
      return Number.isFinite(value) ? value : SLOW
    case 'boolean':
      return value
    case 'object':
      break
    default:
      return SLOW
  }
  if (value === null) return null
  // Counted as the walk counts: fall back well before its node limit could matter.
  if (++st.nodes >= st.maxNodes || depth + 1 >= st.maxDepth) return SLOW
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return SLOW
    const n = value.length
    if (n > st.maxItems || st.nodes + n >= st.maxNodes) return SLOW
    const out: unknown[] = new Array<unknown>(n)
    for (let i = 0; i < n; i++) {
      if (++st.nodes >= st.maxNodes) return SLOW
      const v = copyPlain(value[i], depth + 1, st)
      if (v === SLOW) return SLOW
      out[i] = v
    }
    return out
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return SLOW
  const out = Object.create(null) as Record<string, unknown>
  let keys = 0
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue
    if (++keys > st.maxKeys || ++st.nodes >= st.maxNodes) return SLOW
    // Every key at every depth is checked: a secret-looking one needs the walk's redaction.
    if (key.length > 256 || st.isSecret(key)) return SLOW
    const v = copyPlain((value as Record<string, unknown>)[key], depth + 1, st)
    if (v === SLOW) return SLOW
    out[key] = v
  }
  return out
}

function excerpt(json: string, bytes: number, maxBytes: number): unknown {
  // The excerpt is itself escaped inside the wrapper; shrink until the whole thing fits.
  let chars = Math.max(0, maxBytes - 64)
  for (let i = 0; i < 8; i++) {
    let cut = Math.min(chars, json.length)
    const code = json.charCodeAt(cut - 1)
    if (code >= 0xd800 && code <= 0xdbff) cut--
    const wrapped = { _truncated: true, excerpt: json.slice(0, cut), bytes }
    const size = Buffer.byteLength(JSON.stringify(wrapped))
    if (size <= maxBytes) return wrapped
    chars = Math.floor((cut * maxBytes) / size) - 16
  }
  return { _truncated: true, excerpt: '', bytes }
}
