/**
 * Member-level edits of a JSON(C) text that keep everything else byte for byte: replace a
 * member's value, insert a member after another (indented like it, with the file's line
 * ending), remove a member (with its comma and its own line, never leaving a trailing comma
 * the file did not already use). Each operation re-parses, so operations compose.
 */
import { member, parseJsonTree, type JsonNode, type JsonObjectNode } from './jsonc'
import {
  applyEdits,
  indentOf,
  lineEndOf,
  previousBreak,
  startsLine,
  type TextEdit,
} from './text-edit'

/** The object node at `path` (member keys from the root). */
export function objectAt(root: JsonNode, path: readonly string[]): JsonObjectNode | undefined {
  let node: JsonNode | undefined = root
  for (const key of path) node = member(node, key)?.node
  return node?.type === 'object' ? node : undefined
}

function mustObject(text: string, path: readonly string[]): JsonObjectNode {
  const obj = objectAt(parseJsonTree(text, 'jsonc'), path)
  if (!obj) throw new Error(`internal: no JSON object at ${path.join('.') || '(root)'}`)
  return obj
}

/** Whether the node's text spans more than one line. */
export function isMultiline(text: string, node: { start: number; end: number }): boolean {
  return text.slice(node.start, node.end).includes('\n')
}

/**
 * Renders a string array or string record as JSON text shaped like `like`: one item per line
 * when `like` spans lines (indented as its first item, closed as its last line), else inline.
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
  if (like && isMultiline(text, like) && (like.type === 'array' || like.type === 'object')) {
    const first = like.type === 'array' ? like.items[0]?.node.start : like.props[0]?.keyStart
    const closeIndent = indentOf(text, like.end - 1)
    const itemIndent =
      first !== undefined && startsLine(text, first) ? indentOf(text, first) : `${closeIndent}  `
    if (parts.length === 0) return `${open}${close}`
    // Keep a trailing comma where the file used one (JSONC).
    const trailing =
      (like.type === 'array' ? like.items.at(-1)?.comma : like.props.at(-1)?.comma) !== undefined
        ? ','
        : ''
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
  const existing = member(obj, key)
  if (existing)
    return applyEdits(text, [
      { start: existing.node.start, end: existing.node.end, text: render(existing.node, text) },
    ])
  const anchor =
    after.map((k) => member(obj, k)).find((p) => p !== undefined) ?? obj.props[obj.props.length - 1]
  const newMember = `${JSON.stringify(key)}: ${render(undefined, text)}`
  if (!anchor) {
    return applyEdits(text, [{ start: obj.start + 1, end: obj.end - 1, text: ` ${newMember} ` }])
  }
  if (!startsLine(text, anchor.keyStart) || !isMultiline(text, obj)) {
    return applyEdits(text, [
      { start: anchor.node.end, end: anchor.node.end, text: `, ${newMember}` },
    ])
  }
  const indent = indentOf(text, anchor.keyStart)
  if (anchor.comma !== undefined) {
    const at = restIsBlank(text, anchor.comma + 1)
      ? lineEndOf(text, anchor.comma + 1)
      : anchor.comma + 1
    return applyEdits(text, [{ start: at, end: at, text: `${eol}${indent}${newMember},` }])
  }
  const edits: TextEdit[] = [{ start: anchor.node.end, end: anchor.node.end, text: ',' }]
  const at = restIsBlank(text, anchor.node.end) ? lineEndOf(text, anchor.node.end) : anchor.node.end
  edits.push({ start: at, end: at, text: `${eol}${indent}${newMember}` })
  return applyEdits(text, edits)
}

/** Removes member `key` (every duplicate of it, too) of the object at `path`; a no-op when absent. */
export function removeMember(text: string, path: readonly string[], key: string): string {
  for (;;) {
    const obj = mustObject(text, path)
    const i = obj.props.map((p) => p.key).lastIndexOf(key)
    if (i < 0) return text
    text = removeAt(text, obj, i)
  }
}

function removeAt(text: string, obj: JsonObjectNode, i: number): string {
  const p = obj.props[i]
  if (!p) return text
  const prev = obj.props[i - 1]
  const next = obj.props[i + 1]
  const contentEnd = p.comma !== undefined ? p.comma + 1 : p.node.end
  const edits: TextEdit[] = []
  if (startsLine(text, p.keyStart) && restIsBlank(text, contentEnd)) {
    // The member has its own line(s): remove them with the line break before them.
    const brk = previousBreak(text, p.keyStart)
    edits.push({
      start: brk < obj.start ? p.keyStart : brk,
      end: lineEndOf(text, contentEnd),
      text: '',
    })
    if (p.comma === undefined && prev?.comma !== undefined)
      edits.push({ start: prev.comma, end: prev.comma + 1, text: '' })
  } else if (next) {
    edits.push({ start: p.keyStart, end: next.keyStart, text: '' })
  } else if (prev) {
    edits.push({ start: prev.node.end, end: p.node.end, text: '' })
  } else {
    edits.push({ start: p.keyStart, end: contentEnd, text: '' })
  }
  return applyEdits(text, edits)
}

/** Whether the rest of the line from `offset` holds only whitespace and perhaps a comment. */
function restIsBlank(text: string, offset: number): boolean {
  const rest = text.slice(offset, lineEndOf(text, offset))
  return /^[ \t]*(\/\/.*|\/\*(?:(?!\*\/).)*\*\/[ \t]*)?$/.test(rest)
}
