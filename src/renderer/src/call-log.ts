/**
 * The Activity list's data rules, pure: which live rows a filter shows (the same rules as the
 * gateway's audit query) and how a live row joins the list — a new call goes on top, an outcome
 * for a call already listed updates that row in place.
 */
import type { AuditFilter, CallRow } from '../../shared/contract/control-api'
import { matchesText } from '../../shared/audit-text'
import { toMs } from '../../shared/time'
import { decisionMatches } from '../../shared/contract/audit-record'

/** Whether `row` passes `filter` (exact server, tool, decision, client; time range; text). */
export function matchesFilter(row: CallRow, filter: AuditFilter): boolean {
  if (filter.server !== undefined && row.server !== filter.server) return false
  if (filter.tool !== undefined && row.tool !== filter.tool) return false
  if (!decisionMatches(filter.decision, row.decision)) return false
  if (filter.client !== undefined && row.client !== filter.client) return false
  const since = toMs(filter.since)
  const until = toMs(filter.until)
  if (since !== undefined || until !== undefined) {
    const t = Date.parse(row.ts)
    if (since !== undefined && !(t >= since)) return false
    if (until !== undefined && !(t <= until)) return false
  }
  const text = filter.text?.trim().toLowerCase()
  if (text && !matchesText(row, text)) return false
  return true
}

/** `base` with the defined fields of `update`; the listed row keeps its seq, time and arguments. */
export function mergeRow(base: CallRow, update: CallRow): CallRow {
  const merged: CallRow = { ...base }
  for (const [key, value] of Object.entries(update) as [keyof CallRow, unknown][]) {
    if (value === undefined || key === 'seq' || key === 'ts') continue
    if (key === 'args' && base.args !== undefined) continue
    ;(merged as Record<string, unknown>)[key] = value
  }
  return merged
}

/**
 * Joins live rows (oldest first, as they arrived) into `rows` (newest first). Updates for calls
 * already listed replace them in place; new calls that pass `filter` go on top. Returns `rows`
 * itself when nothing changed. Updates are looked for from the top, where recent calls are, and
 * the scan stops once all are found, so a long list costs little.
 */
export function applyLive(
  rows: readonly CallRow[],
  incoming: readonly CallRow[],
  filter: AuditFilter,
): readonly CallRow[] {
  if (incoming.length === 0) return rows
  // Collapse the batch by callId (a call and its outcome may arrive together).
  const batch = new Map<string, CallRow>()
  for (const row of incoming) {
    const prev = batch.get(row.callId)
    batch.set(row.callId, prev ? mergeRow(prev, row) : row)
  }
  let next: CallRow[] | undefined
  let left = batch.size
  for (let i = 0; i < rows.length && left > 0; i++) {
    const update = batch.get(rows[i]!.callId)
    if (!update) continue
    next ??= rows.slice()
    next[i] = mergeRow(rows[i]!, update)
    batch.delete(rows[i]!.callId)
    left--
  }
  const fresh = [...batch.values()].filter((r) => matchesFilter(r, filter)).reverse()
  if (fresh.length === 0) return next ?? rows
  return [...fresh, ...(next ?? rows)]
}

/** The filter without empty fields (what `audit.query` and `audit.export` get). */
export function cleanFilter(filter: AuditFilter): AuditFilter {
  const out: AuditFilter = {}
  for (const [key, value] of Object.entries(filter) as [keyof AuditFilter, unknown][]) {
    if (value === undefined || value === '') continue
    ;(out as Record<string, unknown>)[key] = value
  }
  return out
}
