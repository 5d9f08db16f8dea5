/**
 * Text splicing shared by the format editors: an edit replaces `[start, end)` with `text`; a
 * set of edits is applied in one pass and must not overlap. Helpers find lines, indentation
 * and the file's line ending, so that inserted lines look like their neighbours.
 */

/** Replace `text.slice(start, end)` with `text` (an insertion when start === end). */
export interface TextEdit {
  start: number
  end: number
  text: string
}

/** Applies non-overlapping edits; throws when two overlap (a bug in the caller). */
export function applyEdits(source: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end)
  let out = ''
  let at = 0
  for (const e of sorted) {
    if (e.start < at || e.end < e.start || e.end > source.length) {
      throw new Error(`overlapping or invalid text edits at ${e.start}-${e.end}`)
    }
    out += source.slice(at, e.start) + e.text
    at = e.end
  }
  return out + source.slice(at)
}

/** The file's line ending: CRLF when its first line break is CRLF, else LF. */
export function detectEol(text: string): '\n' | '\r\n' {
  const nl = text.indexOf('\n')
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n'
}

/** Offset of the first character of the line holding `offset`. */
export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1
}

/** Offset of the end of the line holding `offset` (before its `\r\n` or `\n`). */
export function lineEndOf(text: string, offset: number): number {
  let nl = text.indexOf('\n', offset)
  if (nl < 0) nl = text.length
  return nl > 0 && text[nl - 1] === '\r' && nl - 1 >= offset ? nl - 1 : nl
}

/** The whitespace that starts the line holding `offset`. */
export function indentOf(text: string, offset: number): string {
  const start = lineStartOf(text, offset)
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? ''
}

/** Whether only spaces and tabs stand between the start of its line and `offset`. */
export function startsLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStartOf(text, offset), offset))
}

/**
 * Offset of the line break that ends the line before the one holding `offset` (the `\r` of a
 * CRLF), so that deleting from there to the end of some content removes whole lines while
 * keeping the line break that follows the content. -1 when `offset` is on the first line.
 */
export function previousBreak(text: string, offset: number): number {
  const nl = lineStartOf(text, offset) - 1
  if (nl < 0) return -1
  return nl > 0 && text[nl - 1] === '\r' ? nl - 1 : nl
}

/** The offset just after the last non-whitespace character before `end` (and at or after `start`). */
export function trimEnd(text: string, start: number, end: number): number {
  let e = end
  while (e > start && /\s/.test(text[e - 1] ?? '')) e--
  return e
}

/**
 * The one edit that turns `before` into `after` when every change lies inside `range` (the
 * entry being rewritten); throws when a change escaped it (a bug in the caller).
 */
export function entryEdit(
  before: string,
  after: string,
  range: { start: number; end: number },
): TextEdit {
  const tail = before.length - range.end
  if (
    after.slice(0, range.start) !== before.slice(0, range.start) ||
    after.slice(after.length - tail) !== before.slice(range.end) ||
    after.length - tail < range.start
  ) {
    throw new Error('internal: an entry edit reached outside the entry')
  }
  return { start: range.start, end: range.end, text: after.slice(range.start, after.length - tail) }
}
