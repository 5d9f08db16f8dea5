/**
 * Member-level edits of a JSON(C) text that keep everything else byte for byte: replace a
 * member's value (shaped like the value it replaces), insert a member after another (indented
 * like it, with the file's line ending), remove a member (with its comma and its own line, never
 * leaving a trailing comma the file did not already use). Each operation re-parses, so
 * operations compose.
 *
 * The tree, the commas and the splicing are jsonc-parser's. Its `modify` is not used for these
 * edits: its formatter lays out the whole lines it touches in VS Code's style (an inline array
 * beside the edit becomes one item per line) and a removal takes the comments between two
 * members with it, so a user's file would change beyond the entry.
 */
import { applyEdits, type Edit, type FormattingOptions } from 'jsonc-parser'
import {
  commaAfter,
  formattingOf,
  member,
  members,
  objectAt,
  parseJsonTree,
  type JsonNode,
} from './jsonc'
import { indentOf, lineEndOf, previousBreak, startsLine } from './text-edit'

const end = (n: JsonNode): number => n.offset + n.length

function mustObject(text: string, path: readonly string[]): JsonNode {
  const obj = objectAt(parseJsonTree(text, 'jsonc'), path)
  if (!obj) throw new Error(`internal: no JSON object at ${path.join('.') || '(root)'}`)
  return obj
}

/** Whether the node's text spans more than one line. */
function isMultiline(text: string, node: JsonNode): boolean {
  return text.slice(node.offset, end(node)).includes('\n')
}

/**
 * Renders a string array or string record as JSON text shaped like `like`: one item per line
 * when `like` spans lines (indented as its first item, closed as its last line, with its
 * trailing comma), else inline.
 */
export function renderJson(
  text: string,
  value: readonly string[] | Record<string, string>,
  eol: string,
  like?: JsonNode,
): string {
  const parts = Array.isArray(value)
    ? value.map((v) => JSON.stringify(v))
    : Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}']
  const items = like?.children ?? []
  if (like && isMultiline(text, like) && (like.type === 'array' || like.type === 'object')) {
    if (parts.length === 0) return `${open}${close}`
    const first = items[0]?.offset
    const closeIndent = indentOf(text, end(like) - 1)
    const itemIndent =
      first !== undefined && startsLine(text, first)
        ? indentOf(text, first)
        : closeIndent + indentUnit(formattingOf(text))
    const last = items.at(-1)
    const trailing = last && commaAfter(text, last) !== undefined ? ',' : ''
    return `${open}${eol}${parts.map((p) => itemIndent + p).join(`,${eol}`)}${trailing}${eol}${closeIndent}${close}`
  }
  if (Array.isArray(value)) return `[${parts.join(', ')}]`
  return parts.length ? `{ ${parts.join(', ')} }` : '{}'
}

/** Replaces the value of member `key` of the object at `path`, or inserts it after the first present `after` key. */
export function setMember(
  text: string,
  path: readonly string[],
  key: string,
  render: (existing: JsonNode | undefined, text: string) => string,
  after: readonly string[],
  eol: string,
): string {
  const obj = mustObject(text, path)
  const existing = member(obj, key)?.value
  if (existing)
    return applyEdits(text, [
      { offset: existing.offset, length: existing.length, content: render(existing, text) },
    ])
  const anchor =
    after.map((k) => member(obj, k)?.prop).find((p) => p !== undefined) ?? obj.children?.at(-1)
  const newMember = `${JSON.stringify(key)}: ${render(undefined, text)}`
  if (!anchor) return applyEdits(text, [edit(obj.offset + 1, end(obj) - 1, ` ${newMember} `)])
  if (!startsLine(text, anchor.offset) || !isMultiline(text, obj))
    return applyEdits(text, [edit(end(anchor), end(anchor), `, ${newMember}`)])
  const indent = indentOf(text, anchor.offset)
  const comma = commaAfter(text, anchor)
  if (comma !== undefined) {
    const at = restIsBlank(text, comma + 1) ? lineEndOf(text, comma + 1) : comma + 1
    return applyEdits(text, [edit(at, at, `${eol}${indent}${newMember},`)])
  }
  const at = restIsBlank(text, end(anchor)) ? lineEndOf(text, end(anchor)) : end(anchor)
  return applyEdits(text, [
    edit(end(anchor), end(anchor), ','),
    edit(at, at, `${eol}${indent}${newMember}`),
  ])
}

/** Removes member `key` (every duplicate of it, too) of the object at `path`; a no-op when absent. */
export function removeMember(text: string, path: readonly string[], key: string): string {
  for (;;) {
    const props = members(mustObject(text, path))
    const i = props.map((m) => m.key).lastIndexOf(key)
    if (i < 0) return text
    text = removeAt(text, props[i]?.prop, props[i - 1]?.prop)
  }
}

function removeAt(text: string, p: JsonNode | undefined, prev: JsonNode | undefined): string {
  if (!p) return text
  const comma = commaAfter(text, p)
  const contentEnd = comma !== undefined ? comma + 1 : end(p)
  if (startsLine(text, p.offset) && restIsBlank(text, contentEnd)) {
    // The member has its own line(s): remove them with the line break before them.
    const brk = previousBreak(text, p.offset)
    const parentStart = p.parent?.offset ?? 0
    const edits = [edit(brk < parentStart ? p.offset : brk, lineEndOf(text, contentEnd), '')]
    const prevComma = prev && commaAfter(text, prev)
    if (comma === undefined && prevComma !== undefined)
      edits.push(edit(prevComma, prevComma + 1, ''))
    return applyEdits(text, edits)
  }
  // Inline: the member and its comma, or the comma before it; comments beside it stay.
  if (comma !== undefined) {
    // When the line goes on only with a break, the next member moves up into its place.
    let stop = skipBlanks(text, comma + 1)
    if (text.startsWith('\r\n', stop)) stop = skipBlanks(text, stop + 2)
    else if (text[stop] === '\n') stop = skipBlanks(text, stop + 1)
    return applyEdits(text, [edit(p.offset, stop, '')])
  }
  const prevComma = prev && commaAfter(text, prev)
  if (prevComma === undefined) return applyEdits(text, [edit(p.offset, end(p), '')])
  let start = p.offset
  while (start > prevComma + 1 && /[ \t]/.test(text[start - 1] ?? '')) start--
  return applyEdits(text, [edit(prevComma, prevComma + 1, ''), edit(start, end(p), '')])
}

/** The offset after the spaces and tabs from `offset`. */
function skipBlanks(text: string, offset: number): number {
  let at = offset
  while (/[ \t]/.test(text[at] ?? '')) at++
  return at
}

function indentUnit(f: FormattingOptions): string {
  return f.insertSpaces ? ' '.repeat(f.tabSize ?? 2) : '\t'
}

function edit(start: number, stop: number, content: string): Edit {
  return { offset: start, length: stop - start, content }
}

/** Whether the rest of the line from `offset` holds only whitespace and perhaps a comment. */
function restIsBlank(text: string, offset: number): boolean {
  const rest = text.slice(offset, lineEndOf(text, offset))
  return /^[ \t]*(\/\/.*|\/\*(?:(?!\*\/).)*\*\/[ \t]*)?$/.test(rest)
}
