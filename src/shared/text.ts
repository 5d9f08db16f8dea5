/**
 * The one unsafe-text module: agent-written text shown to people (dialogs, cards, the terminal,
 * comments in generated files) with control characters, ANSI escapes, bidi overrides and line
 * separators made visible or replaced, and safe excerpts cut to a budget. Hostile input stays inert.
 */

// C0/C1 controls (ESC included), DEL, bidi marks/embeddings/overrides/isolates, line/paragraph
// separators.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** A character as the visible escape `\uXXXX`. */
export function visibleEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/**
 * `text` with every unsafe character (see above) replaced: by default with its visible `\uXXXX`
 * escape, else with what `replace` returns for it.
 */
export function escapeUnsafe(text: string, replace: (c: string) => string = visibleEscape): string {
  return text.replace(UNSAFE, replace)
}

/**
 * Text for a terminal: `\n` as the two characters `\\n`, a tab as a space, every other unsafe
 * character escaped, so text an agent wrote cannot move the cursor, recolour the terminal or
 * reorder what is shown; cut to `max` characters.
 */
export function terminalText(text: string, max = Number.POSITIVE_INFINITY): string {
  const safe = escapeUnsafe(text, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : visibleEscape(c)))
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe
}

/** A one-line, escaped JSON excerpt of `value`, at most `max` characters (plus a marker). */
export function excerpt(value: unknown, max = 1024): string {
  let text: string
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    text = '[unserializable]'
  }
  // Cut before escaping as well as after, so a huge input costs O(max).
  const cut = text.length > max * 2 ? text.slice(0, max * 2) : text
  const safe = escapeUnsafe(cut)
  if (safe.length <= max && cut.length === text.length) return safe
  return `${safe.slice(0, max)}… [${text.length} chars]`
}
