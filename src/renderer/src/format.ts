/** Formatting for people: times, durations, ids, errors, and agent-written text made inert. */
import { escapeUnsafe } from '../../shared/text'

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** "14:03:22" today, "11-20 14:03:22" on another day (local time). */
export function formatTime(ts: string | number, now = Date.now()): string {
  const d = new Date(ts)
  if (Number.isNaN(d.getTime())) return String(ts)
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  const today = new Date(now)
  const sameDay =
    d.getFullYear() === today.getFullYear() &&
    d.getMonth() === today.getMonth() &&
    d.getDate() === today.getDate()
  return sameDay ? time : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}

/** A full local date and time with milliseconds, for details and tooltips. */
export function formatDateTime(ts: string | number): string {
  const d = new Date(ts)
  if (Number.isNaN(d.getTime())) return String(ts)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** "12 ms", "1.4 s", or "—". */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
}

/** Seconds left, rounded up, never negative. */
export function secondsLeft(deadline: number, now: number): number {
  return Math.max(0, Math.ceil((deadline - now) / 1000))
}

/** The first 8 characters of an id. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id
}

/** The message of an error thrown by the API or anything else. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  if (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { message?: unknown }).message === 'string'
  )
    return (err as { message: string }).message
  return String(err)
}

/**
 * Agent-written text for a `<pre>`: line breaks kept, every other control character, ANSI escape
 * and bidi override shown as `\uXXXX`. React escapes markup; this keeps the text honest too.
 */
export function visibleText(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeUnsafe(line))
    .join('\n')
}

/** Call arguments as indented JSON text (made visible as above). */
export function argsText(args: unknown): string {
  if (args === undefined) return '(none)'
  let text: string
  try {
    text = typeof args === 'string' ? args : (JSON.stringify(args, null, 2) ?? String(args))
  } catch {
    text = '[unserializable]'
  }
  return visibleText(text)
}

/** An `<input type="datetime-local">` value as an ISO string, or undefined when empty. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}
