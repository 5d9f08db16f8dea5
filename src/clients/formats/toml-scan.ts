/**
 * A locator for TOML text: where each table header and each `key = value` is (also inside
 * inline tables), with full key paths, so that an edit can replace one value or remove one
 * line and leave the rest of the file as it was. It does not validate: the text must already
 * have parsed with a real TOML parser (smol-toml).
 */

/** A `[table]` or `[[array.of.tables]]` header. */
export interface TomlHeader {
  path: string[]
  array: boolean
  start: number
  /** End of the header's line (before the line break), comment included. */
  lineEnd: number
}

/** A `key = value` pair. */
export interface TomlPair {
  /** Full key path: the table's path, then the dotted key. */
  path: string[]
  keyStart: number
  keyEnd: number
  valueStart: number
  valueEnd: number
  /** End of the line (before the line break), comment included; for inline pairs, valueEnd. */
  lineEnd: number
  /** Id of the inline table this pair is inside, or -1 at the top level. */
  parent: number
  /** Id of the inline table that is this pair's value, if it is one. */
  table?: number
  /** Offset of the comma after an inline-table member. */
  comma?: number
}

/** Every header and pair of a TOML text. */
export interface TomlScan {
  headers: TomlHeader[]
  pairs: TomlPair[]
}

const BARE = /[A-Za-z0-9_-]/

/** Scans valid TOML text; throws on text it cannot follow (which a TOML parser would have refused). */
export function scanToml(text: string): TomlScan {
  const headers: TomlHeader[] = []
  const pairs: TomlPair[] = []
  const n = text.length
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let table: string[] = []
  let tables = 0

  const fail = (what: string): never => {
    throw new Error(`TOML: ${what} at offset ${i}`)
  }
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++
  }
  const wsLines = (): void => {
    for (;;) {
      ws()
      if (text[i] === '\n' || text[i] === '\r') i++
      else if (text[i] === '#') while (i < n && text[i] !== '\n') i++
      else return
    }
  }
  const restOfLine = (): number => {
    ws()
    if (text[i] === '#') while (i < n && text[i] !== '\n') i++
    else if (i < n && text[i] !== '\n' && text[i] !== '\r') fail('expected the end of the line')
    while (i < n && text[i] !== '\n') i++
    const end = i > 0 && text[i - 1] === '\r' ? i - 1 : i
    return end
  }
  const basic = (): string => {
    i++
    let out = ''
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') {
        const e = text[i + 1] ?? ''
        const map: Record<string, string> = {
          b: '\b',
          t: '\t',
          n: '\n',
          f: '\f',
          r: '\r',
          '"': '"',
          '\\': '\\',
        }
        if (e in map) {
          out += map[e]
          i += 2
        } else if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8
          out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + len), 16))
          i += 2 + len
        } else fail('bad escape')
      } else out += text[i++]
    }
    if (text[i] !== '"') fail('unterminated string')
    i++
    return out
  }
  const literal = (): string => {
    const close = text.indexOf("'", i + 1)
    if (close < 0) fail('unterminated string')
    const out = text.slice(i + 1, close)
    i = close + 1
    return out
  }
  const simpleKey = (): string => {
    if (text[i] === '"') return basic()
    if (text[i] === "'") return literal()
    const start = i
    while (i < n && BARE.test(text[i] ?? '')) i++
    if (i === start) fail('expected a key')
    return text.slice(start, i)
  }
  const keyPath = (): string[] => {
    const parts = [simpleKey()]
    for (;;) {
      const save = i
      ws()
      if (text[i] !== '.') {
        i = save
        return parts
      }
      i++
      ws()
      parts.push(simpleKey())
    }
  }
  const multiline = (quote: string): void => {
    i += 3
    for (;;) {
      if (i >= n) fail('unterminated multi-line string')
      if (quote === '"' && text[i] === '\\') {
        i += 2
        continue
      }
      if (text.startsWith(quote.repeat(3), i)) {
        i += 3
        // Up to two more quotes belong to the content: """a""""  is  a"
        for (let k = 0; k < 2 && text[i] === quote; k++) i++
        return
      }
      i++
    }
  }
  const value = (path: string[]): number | undefined => {
    const c = text[i]
    if (text.startsWith('"""', i)) multiline('"')
    else if (text.startsWith("'''", i)) multiline("'")
    else if (c === '"') basic()
    else if (c === "'") literal()
    else if (c === '[') {
      i++
      for (;;) {
        wsLines()
        if (text[i] === ']') break
        value([])
        wsLines()
        if (text[i] === ',') i++
        else if (text[i] !== ']') fail('expected "," or "]"')
      }
      i++
    } else if (c === '{') {
      const id = ++tables
      i++
      for (;;) {
        wsLines()
        if (text[i] === '}') break
        const keyStart = i
        const key = keyPath()
        const keyEnd = i
        ws()
        if (text[i] !== '=') fail('expected "="')
        i++
        ws()
        const valueStart = i
        const inner = value([...path, ...key])
        const pair: TomlPair = {
          path: [...path, ...key],
          keyStart,
          keyEnd,
          valueStart,
          valueEnd: i,
          lineEnd: i,
          parent: id,
          ...(inner ? { table: inner } : {}),
        }
        pairs.push(pair)
        wsLines()
        if (text[i] === ',') {
          pair.comma = i
          i++
        } else if (text[i] !== '}') fail('expected "," or "}"')
      }
      i++
      return id
    } else {
      const start = i
      const dateTime = /^\d{4}-\d{2}-\d{2} \d/.test(text.slice(i, i + 12))
      if (dateTime) i += 11
      while (i < n && !/[\s,\]}#]/.test(text[i] ?? '')) i++
      if (i === start) fail('expected a value')
    }
    return undefined
  }

  while (i < n) {
    ws()
    const c = text[i]
    if (c === '\n' || c === '\r') {
      i++
      continue
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++
      continue
    }
    if (c === undefined) break
    if (c === '[') {
      const start = i
      const array = text[i + 1] === '['
      i += array ? 2 : 1
      ws()
      const path = keyPath()
      ws()
      if (!text.startsWith(array ? ']]' : ']', i)) fail('expected "]"')
      i += array ? 2 : 1
      headers.push({ path, array, start, lineEnd: restOfLine() })
      table = path
      continue
    }
    const keyStart = i
    const key = keyPath()
    const keyEnd = i
    ws()
    if (text[i] !== '=') fail('expected "="')
    i++
    ws()
    const valueStart = i
    const path = [...table, ...key]
    const inner = value(path)
    const valueEnd = i
    pairs.push({
      path,
      keyStart,
      keyEnd,
      valueStart,
      valueEnd,
      lineEnd: restOfLine(),
      parent: -1,
      ...(inner ? { table: inner } : {}),
    })
  }
  return { headers, pairs }
}

/** Whether `path` starts with `prefix`. */
export function hasPrefix(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((p, k) => path[k] === p)
}

/** Whether two key paths are equal. */
export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && hasPrefix(a, b)
}

/** A TOML basic string for `s`. */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\u007f/g, '\\u007F')
}

/** A TOML key: bare when it can be, else quoted. */
export function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k)
}
