/**
 * A page of Activity calls read straight from the audit files, newest first, for what the
 * in-memory Activity index does not hold: calls older than its bounded window, and the first
 * query after a restart while the index is still loading. Slower than the index (every line in
 * reach is parsed), but it needs no memory beyond the page.
 */
import {
  decisionMatches,
  type AuditRecord,
  type DecisionFilter,
} from '../../shared/contract/audit-record'
import { matchesText } from '../../shared/audit-text'
import { recordsNewestFirst } from './reader'

/** A filter on calls; every field optional, ANDed (the Activity index's filter). */
export interface DiskPageFilter {
  server?: string
  tool?: string
  decision?: DecisionFilter
  client?: string
  /** Case-insensitive substring of the call's searchable fields or its outcome's. */
  text?: string
  sinceMs?: number
  untilMs?: number
}

/** A call with its outcome. */
export interface DiskPageCall {
  call: AuditRecord
  outcome?: AuditRecord
}

/**
 * How many records above `beforeSeq` are read to find the outcomes of the page's newest calls
 * (an outcome follows its call; one further back than this is shown as missing).
 */
export const OUTCOME_LOOKBACK = 4096
/** Outcomes waiting for their call, at most (the oldest are forgotten first). */
const MAX_WAITING_OUTCOMES = 65_536

/** Where a page cut short at its record budget goes on. */
export interface DiskResume {
  /** Every record from this seq up was looked at: the rest of the page is below it. */
  before: number
  /** Outcomes read whose calls are further down (so they need not be read again). */
  outcomes: Map<string, AuditRecord>
}

/** A page read from the files. */
export interface DiskPage {
  rows: DiskPageCall[]
  /** An older match exists (or, with `resume`, may exist). */
  hasMore: boolean
  /** Set when the page stopped at its record budget before it was full: pass it to go on. */
  resume?: DiskResume
}

/**
 * Calls matching `filter` with seq below `beforeSeq` (all when undefined), newest first, at most
 * `limit`, each with its outcome when found; `hasMore` when an older match exists. At most
 * `maxRecords` records below `beforeSeq` are read: a caller that must not hold its event loop
 * for long reads a page in slices, passing each slice's `resume` to the next (its `before`
 * then stands for `beforeSeq`).
 */
export function diskPage(
  dir: string,
  filter: DiskPageFilter,
  limit: number,
  beforeSeq?: number,
  maxRecords = Infinity,
  resume?: DiskResume,
): DiskPage {
  const text = filter.text?.trim() ? filter.text.toLowerCase() : undefined
  if (resume) beforeSeq = resume.before
  // Outcomes follow their calls: read a little above the page for them, unless carried over.
  const top =
    beforeSeq === undefined ? undefined : resume ? beforeSeq : beforeSeq + OUTCOME_LOOKBACK
  const outcomes = resume?.outcomes ?? new Map<string, AuditRecord>()
  const rows: DiskPageCall[] = []
  let read = 0
  for (const r of recordsNewestFirst(dir, top, filter.sinceMs)) {
    if ((beforeSeq === undefined || r.seq < beforeSeq) && ++read > maxRecords)
      return { rows, hasMore: true, resume: { before: r.seq + 1, outcomes } }
    if (r.kind === 'outcome') {
      if (outcomes.size >= MAX_WAITING_OUTCOMES)
        outcomes.delete(outcomes.keys().next().value as string)
      outcomes.set(r.callId, r)
      continue
    }
    if (r.kind !== 'call' && r.kind !== 'server_request') continue
    // Only a forwarded call has an outcome (a stray record with its id is not one).
    const forwarded = r.kind === 'call' && (r.decision === 'allow' || r.decision === 'approved')
    const outcome = forwarded ? outcomes.get(r.callId) : undefined
    if (outcome) outcomes.delete(r.callId)
    if (beforeSeq !== undefined && !(r.seq < beforeSeq)) continue
    if (filter.server !== undefined && r.server !== filter.server) continue
    if (filter.tool !== undefined && r.tool !== filter.tool) continue
    if (filter.client !== undefined && r.client !== filter.client) continue
    if (!decisionMatches(filter.decision, r.decision)) continue
    if (filter.sinceMs !== undefined || filter.untilMs !== undefined) {
      const t = Date.parse(r.ts)
      if (filter.sinceMs !== undefined && !(t >= filter.sinceMs)) continue
      if (filter.untilMs !== undefined && !(t <= filter.untilMs)) continue
    }
    if (
      text !== undefined &&
      !matchesText(r, text) &&
      !(outcome?.detail !== undefined && matchesText(outcomeFields(outcome), text))
    )
      continue
    if (rows.length === limit) return { rows, hasMore: true }
    rows.push(outcome ? { call: r, outcome } : { call: r })
  }
  return { rows, hasMore: false }
}

/**
 * The fields of an outcome a text search covers (its other fields are its call's), as the
 * index searches them: only an outcome with a detail is searched.
 */
function outcomeFields(o: AuditRecord): { detail?: string; reason?: string; rule?: string } {
  const f: { detail?: string; reason?: string; rule?: string } = {}
  if (o.detail !== undefined) f.detail = o.detail
  if (o.reason !== undefined) f.reason = o.reason
  if (o.rule !== undefined) f.rule = o.rule
  return f
}
