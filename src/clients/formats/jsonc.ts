/**
 * JSON and JSON-with-comments client files, read with `jsonc-parser` (VS Code's own): its tree
 * keeps every value's offset, so an adapter can splice new text into the file and leave the
 * rest byte for byte. Three dialects, as clients read them: strict JSON (`JSON.parse`), JSON
 * with comments (strip-json-comments, then `JSON.parse`), and JSONC (comments and trailing
 * commas, as VS Code and Zed read their settings). A leading byte-order mark is accepted and
 * kept. What this adds to the library: the first error in words a person can act on, values
 * built as `JSON.parse` builds them, and a depth limit (its parser recurses).
 */
import {
  createScanner,
  parseTree,
  printParseErrorCode,
  visit,
  type FormattingOptions,
  type Node,
  type ParseError,
  type ParseErrorCode,
  type ParseOptions,
} from 'jsonc-parser'
import { detectEol } from './text-edit'

export type { Node as JsonNode } from 'jsonc-parser'

/** How a client parses its JSON file. */
export type JsonDialect = 'json' | 'json-comments' | 'jsonc'

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

/** jsonc-parser's token kinds (its `const enum SyntaxKind`, which isolated modules cannot read). */
const TOKEN = { openBrace: 1, closeBrace: 2, openBracket: 3, closeBracket: 4, comma: 5, eof: 17 }

/** Parses `text` in `dialect` and returns the root node; throws JsonSyntaxError. */
export function parseJsonTree(text: string, dialect: JsonDialect): Node {
  // The parser does not know a BOM; a space of the same length keeps every offset.
  const source = text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text
  const options: ParseOptions = {
    disallowComments: dialect === 'json',
    allowTrailingComma: dialect === 'jsonc',
    allowEmptyContent: false,
  }
  checkDepth(source)
  const errors: ParseError[] = []
  const root = parseTree(source, errors, options)
  if (errors.length > 0 || !root) throw firstError(source, options)
  return root
}

/** A node's value as `JSON.parse` gives it: the last duplicate key wins, `__proto__` is an own key. */
export function nodeValue(node: Node): unknown {
  if (node.type === 'array') return (node.children ?? []).map(nodeValue)
  if (node.type !== 'object') return node.value as unknown
  const out: Record<string, unknown> = {}
  for (const m of members(node))
    Object.defineProperty(out, m.key, {
      value: nodeValue(m.value),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  return out
}

/** One object member: its property node (key to value), key and value. */
export interface JsonMember {
  prop: Node
  key: string
  value: Node
}

/** The members of an object node in source order (duplicates kept); none for other nodes. */
export function members(node: Node | undefined): JsonMember[] {
  if (node?.type !== 'object') return []
  return (node.children ?? []).flatMap((prop) => {
    const [k, value] = prop.children ?? []
    return k && value ? [{ prop, key: String(k.value), value }] : []
  })
}

/** The member `key` of an object node (the last one, as JSON.parse does), if present. */
export function member(node: Node | undefined, key: string): JsonMember | undefined {
  return members(node).findLast((m) => m.key === key)
}

/** The object node at `path` (member keys from the root). */
export function objectAt(root: Node, path: readonly string[]): Node | undefined {
  let node: Node | undefined = root
  for (const key of path) node = member(node, key)?.value
  return node?.type === 'object' ? node : undefined
}

/** Offset of the comma that follows `node` (comments and whitespace between), if there is one. */
export function commaAfter(text: string, node: Node): number | undefined {
  const scanner = createScanner(text, true) // skips whitespace and comments
  scanner.setPosition(node.offset + node.length)
  return scanner.scan() === TOKEN.comma ? scanner.getTokenOffset() : undefined
}

/** The file's indentation (the first indented line's: a tab, or its width in spaces) and line ending. */
export function formattingOf(text: string): FormattingOptions {
  const indent = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  '
  const tabs = indent.startsWith('\t')
  return { insertSpaces: !tabs, tabSize: tabs ? 4 : indent.length, eol: detectEol(text) }
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

/** Refuses nesting deeper than MAX_DEPTH before the (recursive) parser sees it. */
function checkDepth(text: string): void {
  const scanner = createScanner(text, true)
  let depth = 0
  for (let t: number = scanner.scan(); t !== TOKEN.eof; t = scanner.scan()) {
    if (t === TOKEN.openBrace || t === TOKEN.openBracket) depth++
    else if (t === TOKEN.closeBrace || t === TOKEN.closeBracket) depth--
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('nested too deeply', scanner.getTokenOffset())
  }
}

/** The first syntax error, in words: walks the text again to know where the parser was. */
function firstError(text: string, options: ParseOptions): JsonSyntaxError {
  const stack: { array: boolean; key?: string; wantsName: boolean }[] = []
  let rootSeen = false
  let comma: number | undefined
  let found: JsonSyntaxError | undefined
  const value = (): void => {
    comma = undefined
    if (stack.length === 0) rootSeen = true
  }
  const open = (array: boolean) => (): void => {
    value()
    stack.push({ array, wantsName: !array })
  }
  const close = (): void => {
    stack.pop()
    comma = undefined
  }
  visit(
    text,
    {
      onObjectBegin: open(false),
      onArrayBegin: open(true),
      onObjectEnd: close,
      onArrayEnd: close,
      onLiteralValue: value,
      onObjectProperty: (key) => {
        const top = stack.at(-1)
        if (top) Object.assign(top, { key, wantsName: false })
        comma = undefined
      },
      onSeparator: (sep, offset) => {
        if (sep !== ',') return
        comma = offset
        const top = stack.at(-1)
        if (top && !top.array) top.wantsName = true
      },
      onError: (code, offset) => {
        found ??= describe(code, offset)
      },
    },
    options,
  )
  return found ?? new JsonSyntaxError('not valid JSON', 0)

  function describe(code: ParseErrorCode, offset: number): JsonSyntaxError {
    const c = text[offset]
    const what =
      c === undefined ? 'end of file' : `"${c === '\n' ? '\\n' : c === '\r' ? '\\r' : c}"`
    const top = stack.at(-1)
    const closing = c === '}' || c === ']'
    const err = (message: string, at = offset): JsonSyntaxError => new JsonSyntaxError(message, at)
    switch (printParseErrorCode(code)) {
      case 'InvalidCommentToken':
        return err('comments are not allowed in this file (the client reads it as strict JSON)')
      case 'UnexpectedEndOfComment':
        return err('unterminated /* comment')
      case 'UnexpectedEndOfString':
        return err('unterminated string')
      case 'InvalidCharacter':
        return err(
          'a control character (such as a raw newline or tab) inside a string; write it as \\n or \\t',
        )
      case 'InvalidEscapeCharacter':
      case 'InvalidUnicode':
        return err('invalid escape in a string (a backslash is written \\\\)')
      case 'InvalidNumberFormat':
      case 'UnexpectedEndOfNumber':
        return err('invalid number')
      case 'ColonExpected':
        return err(`expected ":" after "${top?.key ?? ''}", found ${what}`)
      case 'CommaExpected':
      case 'CloseBraceExpected':
      case 'CloseBracketExpected':
        return top?.array
          ? err(`expected "," or "]" in the array, found ${what}`)
          : err(`expected "," or "}" after the value of "${top?.key ?? ''}", found ${what}`)
      case 'EndOfFileExpected':
        return err(`unexpected ${what} after the end of the document`)
      default: // InvalidSymbol, PropertyNameExpected, ValueExpected
        if (comma !== undefined && closing)
          return err(`trailing comma before "${c}" (the client does not allow it)`, comma)
        if (stack.length === 0 && rootSeen)
          return err(`unexpected ${what} after the end of the document`)
        if (stack.length === 0 && c === undefined)
          return err('the file is empty; expected a JSON object')
        if (top && !top.array && top.wantsName)
          return err(`expected a "quoted" property name or "}", found ${what}`)
        return err(`expected a value, found ${what}`)
    }
  }
}
