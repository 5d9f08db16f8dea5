/** Times as people and the control API write them. */

/**
 * An epoch-ms time from an ISO time (`2026-11-21T10:00:00Z`) or epoch milliseconds (a number, or a
 * string of digits); undefined when `value` is absent or neither.
 */
export function toMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(value.trim())
        ? Number(value.trim())
        : Date.parse(value)
  return Number.isFinite(ms) ? ms : undefined
}

/** What a caller says when `toMs` finds no time: the expected forms and what was given. */
export function timeExpected(value: unknown): string {
  return `expected an ISO time (2026-11-21T10:00:00Z) or epoch milliseconds, got ${JSON.stringify(value)}`
}
