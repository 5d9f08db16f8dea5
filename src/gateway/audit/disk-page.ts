/**
 * A page of Activity calls read straight from the audit files, newest first, for what the
 * in-memory Activity index does not hold: calls older than its bounded window, and the first
 * query after a restart while the index is still loading. Slower than the index (every line in
 * reach is parsed), but it needs no memory beyond the page.
 */
import {
  decisionMatches,
  decisionSet,
  type AuditRecord,
  type DecisionFilter,
} from '../../shared/contract/audit-record'
import { matchesText } from '../../shared/audit-text'
import { parseStoredLine } from './canonical'
import { linesNewestFirst, seqOfLine } from './reader'

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
  /**
   * Outcomes read whose calls are further down (so they need not be read again): the record,
   * or its stored line when it was not parsed yet.
   */
  outcomes: Map<string, AuditRecord | string>
  /**
   * Set when the page was cut short among the rows the Activity index holds (its text matched
   * on disk): it goes on there, below `before`, and `outcomes` is unused.
   */
  held?: boolean
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
  if (resume?.held) {
    // Cut short among the index's rows (and the index is gone since): a page below `before`.
    beforeSeq = resume.before
    resume = undefined
  }
  if (resume) beforeSeq = resume.before
  // Outcomes follow their calls: read a little above the page for them, unless carried over.
  const top =
    beforeSeq === undefined ? undefined : resume ? beforeSeq : beforeSeq + OUTCOME_LOOKBACK
  const outcomes = resume?.outcomes ?? new Map<string, AuditRecord | string>()
  const wait = (callId: string, o: AuditRecord | string): void => {
    if (outcomes.size >= MAX_WAITING_OUTCOMES)
      outcomes.delete(outcomes.keys().next().value as string)
    outcomes.set(callId, o)
  }
  const rows: DiskPageCall[] = []
  const pre = prefilter(filter, text)
  let read = 0
  for (const line of linesNewestFirst(dir, top, filter.sinceMs, pre?.need)) {
    // With a prefilter, a line in the writer's layout is counted by its seq and tested before
    // it is parsed: most lines of a narrow filter never are (those without `need` are not
    // even decoded: they come as their seq).
    if (typeof line === 'number') {
      if ((beforeSeq === undefined || line < beforeSeq) && ++read > maxRecords)
        return { rows, hasMore: true, resume: { before: line + 1, outcomes } }
      continue
    }
    let r: AuditRecord | null = null
    const lineSeq = pre === undefined ? undefined : seqOfLine(line)
    if (lineSeq === undefined) {
      r = parseStoredLine(line)
      if (!r) continue
    }
    const seq = lineSeq ?? (r as AuditRecord).seq
    if ((beforeSeq === undefined || seq < beforeSeq) && ++read > maxRecords)
      return { rows, hasMore: true, resume: { before: seq + 1, outcomes } }
    if (r === null) {
      const want = (pre as Prefilter).test(line, outcomes)
      if (want === 'skip') continue
      const callId = want === 'outcome' ? callIdOfLine(line) : undefined
      if (callId !== undefined) {
        wait(callId, line) // parsed only if its call is on the page
        continue
      }
      r = parseStoredLine(line)
      if (!r) continue
    }
    if (r.kind === 'outcome') {
      wait(r.callId, r)
      continue
    }
    if (r.kind !== 'call' && r.kind !== 'server_request') continue
    // Only a forwarded call has an outcome (a stray record with its id is not one).
    const forwarded = r.kind === 'call' && (r.decision === 'allow' || r.decision === 'approved')
    const waiting = forwarded ? outcomes.get(r.callId) : undefined
    if (waiting !== undefined) outcomes.delete(r.callId)
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
    const outcome = typeof waiting === 'string' ? (parseStoredLine(waiting) ?? undefined) : waiting
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

/**
 * A test on a stored line, before it is parsed, that is false only for lines the page cannot
 * use: records of other kinds, and calls (with their outcomes) whose server, tool, client,
 * decision or text cannot match. Undefined when the filter gives nothing to test. A stored line
 * holds each head field as JSON.stringify writes it (`,"server":"x"`), so a record with
 * server x holds that text; the converse need not hold (arguments may contain it too), so what
 * passes is parsed and filtered as before.
 */
interface Prefilter {
  /** Bytes every line the page can use contains (undefined: no such bytes). */
  need: Buffer | undefined
  /** What to do with a stored line: skip it, parse it, or keep it as a waiting outcome. */
  test(line: string, outcomes: Map<string, AuditRecord | string>): 'skip' | 'parse' | 'outcome'
}

function prefilter(filter: DiskPageFilter, text: string | undefined): Prefilter | undefined {
  const must: string[] = []
  if (filter.server !== undefined) must.push(`,"server":${JSON.stringify(filter.server)}`)
  if (filter.tool !== undefined) must.push(`,"tool":${JSON.stringify(filter.tool)}`)
  if (filter.client !== undefined) must.push(`,"client":${JSON.stringify(filter.client)}`)
  const decisions = decisionSet(filter.decision)
  const anyOf =
    decisions === undefined ? undefined : [...decisions].map((d) => `,"decision":"${d}"`)
  // A needle of printable ASCII without a quote or backslash reads the same in the stored
  // JSON as in the fields, and lowercasing the line lowercases each field alike.
  const lineText =
    text !== undefined && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(text) ? text : undefined
  if (must.length === 0 && anyOf === undefined && lineText === undefined) return undefined
  // Bytes in every line wanted: a server/tool/client member (in calls and their outcomes
  // alike), or the one decision of a filter whose calls have no outcome (not forwarded).
  const single = decisions?.size === 1 && !decisions.has('allow') && !decisions.has('approved')
  const need = must[0] ?? (single ? anyOf?.[0] : undefined)
  const skipCall = (outcomes: Map<string, unknown>, callId: string | undefined): 'skip' => {
    if (callId !== undefined) outcomes.delete(callId)
    return 'skip'
  }
  const test: Prefilter['test'] = (line, outcomes) => {
    const kind = kindOfLine(line)
    if (kind === undefined) return 'parse' // not the writer's layout
    if (kind !== 'call' && kind !== 'outcome' && kind !== 'server_request') return 'skip'
    for (const m of must) if (!line.includes(m)) return 'skip'
    // An outcome joins its call: the decision and the text are the call's to decide.
    if (kind === 'outcome') return 'outcome'
    // A call passed over lets go of its outcome, as a parsed one does (the map stays small).
    if (anyOf !== undefined && !anyOf.some((d) => line.includes(d)))
      return skipCall(outcomes, callIdOfLine(line))
    if (lineText === undefined || line.toLowerCase().includes(lineText)) return 'parse'
    // The text may be in the call's outcome, read before it (an outcome follows its call); an
    // outcome's line holds its searchable fields as the call's line holds its own.
    const callId = callIdOfLine(line)
    if (callId === undefined) return 'parse'
    const o = outcomes.get(callId)
    if (o === undefined) return 'skip'
    const found =
      typeof o === 'string'
        ? o.toLowerCase().includes(lineText)
        : matchesText(outcomeFields(o), lineText)
    return found ? 'parse' : skipCall(outcomes, callId)
  }
  return { need: need === undefined ? undefined : Buffer.from(need), test }
}

/** The `kind` of a stored line (its first `,"kind":"…"` follows seq and ts), or undefined. */
function kindOfLine(line: string): string | undefined {
  return plainMember(line, 'kind', 64)
}

/** The callId of a stored line when it is plain (no escapes), or undefined. */
function callIdOfLine(line: string): string | undefined {
  return plainMember(line, 'callId')
}

/**
 * The value of the first `,"key":"…"` member of a stored line (head members come before any
 * argument), starting at most `maxAt` in; undefined when absent, or when it holds an escape.
 */
function plainMember(line: string, key: string, maxAt = Infinity): string | undefined {
  const prefix = `,"${key}":"`
  const at = line.indexOf(prefix)
  if (at === -1 || at > maxAt) return undefined
  const from = at + prefix.length
  const end = line.indexOf('"', from)
  if (end === -1) return undefined
  const value = line.slice(from, end)
  return value.includes('\\') ? undefined : value
}
