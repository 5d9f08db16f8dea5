/**
 * Safe excerpts of agent-written data for people: JSON text with control characters, ANSI
 * escapes and bidi overrides made visible, cut to a byte budget. Hostile input stays inert.
 */

// C0/C1 controls, DEL, bidi embeddings/overrides/isolates, line/paragraph separators.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Replaces unsafe characters with visible `\uXXXX` escapes. */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
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
