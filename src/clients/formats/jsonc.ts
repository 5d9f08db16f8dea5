/**
 * A small JSON / JSON-with-comments parser that keeps every value's text range, so that an
 * adapter can splice new text into a client's config file and leave the rest byte for byte.
 * Three dialects, as clients read them: strict JSON (`JSON.parse`), JSON with comments
 * (strip-json-comments, then `JSON.parse`), and JSONC (comments and trailing commas, as VS Code
 * and Zed read their settings). A leading byte-order mark is accepted and kept.
 */

/** How a client parses its JSON file. */
export type JsonDialect = 'json' | 'json-comments' | 'jsonc'

/** A parsed value and where its text is: `text.slice(start, end)` is the value's source. */
export type JsonNode = JsonObjectNode | JsonArrayNode | JsonScalarNode

/** An object node: its members in source order (duplicates kept; the last one wins). */
export interface JsonObjectNode {
  type: 'object'
  start: number
  end: number
  props: JsonProperty[]
  value: Record<string, unknown>
}

/** An array node: its elements in source order. */
export interface JsonArrayNode {
  type: 'array'
  start: number
  end: number
  items: JsonItem[]
  value: unknown[]
}

/** A string, number, boolean or null. */
export interface JsonScalarNode {
  type: 'string' | 'number' | 'boolean' | 'null'
  start: number
  end: number
  value: string | number | boolean | null
}

/** One object member: key range, value, and the comma after it (if any). */
export interface JsonProperty {
  key: string
  keyStart: number
  keyEnd: number
  node: JsonNode
  /** Offset of the comma that follows this member, if there is one. */
  comma?: number
}

/** One array element and the comma after it (if any). */
export interface JsonItem {
  node: JsonNode
  comma?: number
}

/** A syntax error at `offset`, with a message a person can act on. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError'
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

const MAX_DEPTH = 500

/** Parses `text` in `dialect` and returns the root node; throws JsonSyntaxError. */
export function parseJsonTree(text: string, dialect: JsonDialect): JsonNode {
  return new Parser(text, dialect).parseDocument()
}

/** The member `key` of an object node (the last one, as JSON.parse does), if present. */
export function member(node: JsonNode | undefined, key: string): JsonProperty | undefined {
  if (!node || node.type !== 'object') return undefined
  for (let i = node.props.length - 1; i >= 0; i--) {
    const p = node.props[i]
    if (p && p.key === key) return p
  }
  return undefined
}

/** Whether the text parses with plain `JSON.parse` (BOM allowed). */
export function isStrictJson(text: string): boolean {
  try {
    JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
    return true
  } catch {
    return false
  }
}

class Parser {
  private pos = 0
  private readonly comments: boolean
  private readonly trailingCommas: boolean

  constructor(
    private readonly text: string,
    dialect: JsonDialect,
  ) {
    this.comments = dialect !== 'json'
    this.trailingCommas = dialect === 'jsonc'
  }

  parseDocument(): JsonNode {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1
    this.skip()
    if (this.pos >= this.text.length) this.fail('the file is empty; expected a JSON object')
    const node = this.value(0)
    this.skip()
    if (this.pos < this.text.length)
      this.fail(`unexpected ${this.describe()} after the end of the document`)
    return node
  }

  private fail(message: string, at = this.pos): never {
    throw new JsonSyntaxError(message, at)
  }

  private describe(): string {
    if (this.pos >= this.text.length) return 'end of file'
    const c = this.text[this.pos] ?? ''
    return `"${c === '\n' ? '\\n' : c === '\r' ? '\\r' : c}"`
  }

  /** Skips whitespace and, where the dialect allows them, comments. */
  private skip(): void {
    const t = this.text
    for (;;) {
      const c = t.charCodeAt(this.pos)
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        this.pos++
      } else if (c === 47 /* / */ && (t[this.pos + 1] === '/' || t[this.pos + 1] === '*')) {
        if (!this.comments)
          this.fail('comments are not allowed in this file (the client reads it as strict JSON)')
        if (t[this.pos + 1] === '/') {
          const nl = t.indexOf('\n', this.pos)
          this.pos = nl < 0 ? t.length : nl
        } else {
          const close = t.indexOf('*/', this.pos + 2)
          if (close < 0) this.fail('unterminated /* comment')
          this.pos = close + 2
        }
      } else {
        return
      }
    }
  }

  private value(depth: number): JsonNode {
    if (depth > MAX_DEPTH) this.fail('nested too deeply')
    const c = this.text[this.pos]
    if (c === '{') return this.object(depth)
    if (c === '[') return this.array(depth)
    if (c === '"') {
      const start = this.pos
      const value = this.string()
      return { type: 'string', start, end: this.pos, value }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number()
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        const start = this.pos
        this.pos += word.length
        return { type: value === null ? 'null' : 'boolean', start, end: this.pos, value }
      }
    }
    return this.fail(`expected a value, found ${this.describe()}`)
  }

  private object(depth: number): JsonObjectNode {
    const start = this.pos
    this.pos++
    const props: JsonProperty[] = []
    const value: Record<string, unknown> = {}
    this.skip()
    while (this.text[this.pos] !== '}') {
      if (this.text[this.pos] !== '"')
        this.fail(`expected a "quoted" property name or "}", found ${this.describe()}`)
      const keyStart = this.pos
      const key = this.string()
      const keyEnd = this.pos
      this.skip()
      if (this.text[this.pos] !== ':')
        this.fail(`expected ":" after "${key}", found ${this.describe()}`)
      this.pos++
      this.skip()
      const node = this.value(depth + 1)
      const prop: JsonProperty = { key, keyStart, keyEnd, node }
      props.push(prop)
      // defineProperty: a "__proto__" key is an own property, as with JSON.parse.
      Object.defineProperty(value, key, {
        value: node.value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
      this.skip()
      if (this.text[this.pos] === ',') {
        prop.comma = this.pos
        this.pos++
        this.skip()
        if (this.text[this.pos] === '}' && !this.trailingCommas)
          this.fail('trailing comma before "}" (the client does not allow it)', prop.comma)
      } else if (this.text[this.pos] !== '}') {
        this.fail(`expected "," or "}" after the value of "${key}", found ${this.describe()}`)
      }
    }
    this.pos++
    return { type: 'object', start, end: this.pos, props, value }
  }

  private array(depth: number): JsonArrayNode {
    const start = this.pos
    this.pos++
    const items: JsonItem[] = []
    this.skip()
    while (this.text[this.pos] !== ']') {
      const node = this.value(depth + 1)
      const item: JsonItem = { node }
      items.push(item)
      this.skip()
      if (this.text[this.pos] === ',') {
        item.comma = this.pos
        this.pos++
        this.skip()
        if (this.text[this.pos] === ']' && !this.trailingCommas)
          this.fail('trailing comma before "]" (the client does not allow it)', item.comma)
      } else if (this.text[this.pos] !== ']') {
        this.fail(`expected "," or "]" in the array, found ${this.describe()}`)
      }
    }
    this.pos++
    return { type: 'array', start, end: this.pos, items, value: items.map((i) => i.node.value) }
  }

  private string(): string {
    const t = this.text
    const start = this.pos
    this.pos++
    let out = ''
    let chunk = this.pos
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string', start)
      const c = t.charCodeAt(this.pos)
      if (c === 34 /* " */) {
        out += t.slice(chunk, this.pos)
        this.pos++
        return out
      }
      if (c < 0x20)
        this.fail(
          'a control character (such as a raw newline or tab) inside a string; write it as \\n or \\t',
        )
      if (c === 92 /* \ */) {
        out += t.slice(chunk, this.pos)
        const e = t[this.pos + 1]
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        }
        if (e !== undefined && e in simple) {
          out += simple[e]
          this.pos += 2
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
          out += String.fromCharCode(parseInt(t.slice(this.pos + 2, this.pos + 6), 16))
          this.pos += 6
        } else {
          this.fail(`invalid escape "\\${e ?? ''}" in a string`)
        }
        chunk = this.pos
        continue
      }
      this.pos++
    }
  }

  private number(): JsonScalarNode {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(
      this.text.slice(this.pos, this.pos + 400),
    )
    if (!m) return this.fail(`expected a number, found ${this.describe()}`)
    const start = this.pos
    this.pos += m[0].length
    return { type: 'number', start, end: this.pos, value: Number(m[0]) }
  }
}
