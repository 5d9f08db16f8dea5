/**
 * An in-memory index of the audit log for the Activity view: one compact row per `call` record,
 * joined with its `outcome` record (same callId). Per row it keeps only numbers — seq, time,
 * interned server/tool/client ids, decision and outcome codes, latency, and where both records
 * sit in their files — in growable typed arrays (~70 bytes a row). Full records (arguments,
 * reasons, details) are read lazily from the files, for the rows of a page only.
 *
 * For the text filter it also keeps a search corpus: the lowercased searchable text of the
 * newest rows (up to a byte cap), searched with native `Buffer.indexOf`. Rows older than the
 * corpus are searched on disk, in large sequential chunks.
 *
 * Built once at start by streaming the files (asynchronously, yielding between chunks so tool
 * calls keep flowing), then kept current by `add` as the gateway writes records. Filtered pages
 * of 100 over a million records take milliseconds: filters compare integers, text is found in
 * the corpus.
 *
 * Memory is bounded by design: the index holds at most `maxRows` calls (the newest) and loads
 * only the newest files that can fill them. A page reaching past the oldest row held is
 * continued from the files (see audit/disk-page.ts), and so is a query made before loading ends.
 */
import fs from 'node:fs'
import {
  AUDIT_DECISIONS,
  decisionSet,
  type DecisionFilter,
  type AuditDecision,
  type AuditOutcome,
  type AuditRecord,
} from '../../../shared/contract/audit-record'
import { matchesText } from '../../../shared/audit-text'
import type { CallRow } from '../../../shared/contract/control-api'
import { queryAudit } from '../index'
import { canonicalLine, parseStoredLine, storedLine } from '../canonical'
import { diskPage, type DiskPage, type DiskResume } from '../disk-page'
import { listAuditFiles } from '../files'

/** Decision kinds, by code. */
export const DECISIONS: readonly AuditDecision[] = AUDIT_DECISIONS
/** Outcome kinds, by code (code 0 = no outcome yet). */
export const OUTCOMES: readonly AuditOutcome[] = [
  'ok',
  'is_error',
  'error',
  'server_exit',
  'cancelled',
]

/** A filter on call rows; every field optional, ANDed. */
export interface IndexFilter {
  server?: string
  tool?: string
  /** One decision, the "blocked" group, or several (any of them). */
  decision?: DecisionFilter
  client?: string
  /** Case-insensitive substring of tool, server, client, reason, detail, rule, callId, session or args. */
  text?: string
  sinceMs?: number
  untilMs?: number
}

/** A call with its outcome, read back in full. */
export interface IndexedCall {
  call: AuditRecord
  outcome?: AuditRecord
}

/** What `add` did with a record. */
export type AddResult =
  { kind: 'call'; row: number } | { kind: 'outcome'; row: number } | { kind: 'ignored' }

/** Histogram buckets of one server. */
export interface HistogramSeries {
  server: string
  allowed: number[]
  approved: number[]
  denied: number[]
}

/** Options of an {@link AuditIndex}. */
export interface AuditIndexOptions {
  /**
   * Most bytes of lowercased text the search corpus holds (default {@link DEFAULT_CORPUS_BYTES});
   * rows that do not fit (the oldest) are searched on disk. 0 disables the corpus.
   */
  corpusBytes?: number
  /**
   * Most call rows held (default {@link DEFAULT_MAX_ROWS}, about 70 bytes each): past it the
   * oldest are dropped, a fifth of it at a time, and their pages are read from the files.
   */
  maxRows?: number
}

/**
 * What the writer of a record already knows about it, so {@link AuditIndex.add} need not work it
 * out again: `argsJson` must be `JSON.stringify(rec.args)`, `tsMs` must be `Date.parse(rec.ts)`.
 */
export interface KnownText {
  argsJson?: string | undefined
  tsMs?: number | undefined
}

/** Default cap of the search corpus: 16 MiB. */
export const DEFAULT_CORPUS_BYTES = 16 * 1024 * 1024
/**
 * Default most call rows held in memory: 200 000 (about 400 000 records; 14 MB, 17 MB before a
 * trim). With the corpus, the index stays near 33 MB however long the log grows; older pages are
 * read from the files a slice at a time (see ControlService), so the gateway stays near 130 MB
 * at 10 M records (400 000 rows: about 165 MB).
 */
export const DEFAULT_MAX_ROWS = 200_000
/** Bytes of audit files loaded per row held, at most: the newest files up to this are read. */
const LOAD_BYTES_PER_ROW = 800

const LOAD_CHUNK = 1024 * 1024
/** Fewer bytes than any stored call record takes (its seq, ts, ids, decision, prev and hash). */
const MIN_ROW_BYTES = 256
const SCAN_CHUNK = 1024 * 1024
const NL = 0x0a
const DECISION_CODE = new Map(DECISIONS.map((d, i) => [d, i]))
const OUTCOME_CODE = new Map(OUTCOMES.map((o, i) => [o, i + 1]))
const ALLOW = DECISION_CODE.get('allow') as number
const APPROVED = DECISION_CODE.get('approved') as number

/** Decision codes a filter admits, as a lookup by code; undefined: any. */
function decisionMask(f: DecisionFilter | undefined): Uint8Array | undefined {
  const set = decisionSet(f)
  if (set === undefined) return undefined
  const mask = new Uint8Array(DECISIONS.length)
  for (const d of set) mask[DECISION_CODE.get(d) as number] = 1
  return mask
}
/**
 * Ends every field in the corpus. JSON text never holds a raw NUL and a needle without one
 * cannot match across it, so a hit never spans two fields or two rows.
 */
const SEP = '\u0000'
/** First and largest stretch of corpus searched in one `indexOf` pass (it doubles in between). */
const MIN_WINDOW = 64 * 1024
const MAX_WINDOW = 4 * 1024 * 1024
/** A window with this many hits does not grow: a frequent needle costs a call per hit. */
const DENSE_HITS = 256

class Interner {
  readonly ids = new Map<string, number>()
  readonly names: string[] = []
  id(name: string): number {
    let id = this.ids.get(name)
    if (id === undefined) {
      id = this.names.length
      this.names.push(name)
      this.ids.set(name, id)
    }
    return id
  }
}

/** The compact fields of a record, as read at load time (everything before `args`). */
interface Head {
  seq: number
  ts: string
  kind: string
  callId: string
  session?: string
  server: string
  tool: string
  client?: string
  decision?: AuditDecision
  rule?: string
  reason?: string
  outcome?: AuditOutcome
  latencyMs?: number
  detail?: string
}

/** A stored line's head and its `args` as JSON text (`JSON.stringify` of the parsed args). */
interface ParsedLine {
  head: Head
  argsJson: string | undefined
}

const PREV = ',"prev":'
/** Length of a stored line's tail after `,"prev":""` (no previous record) up to its end. */
const TAIL = ',"hash":"'.length + 64 + '"}'.length

/**
 * Where the top-level `,"prev":` of a stored line starts: its value is "" or 64 hex digits, and
 * only `hash` follows. -1 when neither fits.
 */
function prevAt(line: string): number {
  const empty = line.length - TAIL - PREV.length - 2
  if (line.startsWith(PREV, empty)) return empty
  return line.startsWith(PREV, empty - 64) ? empty - 64 : -1
}

/**
 * The fields before `args`/`prev` of a stored line, parsed without the (possibly large)
 * arguments, which are sliced out as text. Inside a JSON string every `"` is escaped and the
 * members before `args` are scalars, so the first `,"args":` (or, without arguments,
 * `,"prev":`) is the top-level member. The writer produced the args text with `JSON.stringify`,
 * which re-serializes parsed JSON unchanged.
 */
function parseHead(line: string): ParsedLine | null {
  const argsAt = line.indexOf(',"args":')
  const cut = argsAt === -1 ? line.indexOf(PREV) : argsAt
  try {
    const v = JSON.parse(cut === -1 ? line : `${line.slice(0, cut)}}`) as Head
    if (typeof v.seq === 'number' && typeof v.ts === 'string' && typeof v.kind === 'string') {
      if (argsAt === -1 || v.kind === 'outcome') return { head: v, argsJson: undefined }
      const end = prevAt(line)
      if (end > argsAt) return { head: v, argsJson: line.slice(argsAt + ',"args":'.length, end) }
    }
  } catch {
    // Fall back to the whole line below.
  }
  const rec = parseStoredLine(line)
  return (
    rec && { head: rec, argsJson: rec.args === undefined ? undefined : JSON.stringify(rec.args) }
  )
}

/**
 * A call's searchable text for the corpus, lowercased: callId, session, reason, rule, detail and
 * args, each followed by {@link SEP}. Lowercasing the joined text equals lowercasing each field:
 * the only context-dependent mapping (final sigma) treats SEP as the end of a word. Server, tool
 * and client are matched through their interned names instead. The session is left out when the
 * callId starts with it (the gateway's ids do): whatever matches inside it matches inside the
 * callId — unless a sigma lowercases differently at the session's end.
 */
function callText(h: Head, argsJson: string | undefined): string {
  const callId = typeof h.callId === 'string' ? h.callId : ''
  let text = callId + SEP
  const session = h.session
  if (typeof session === 'string' && !(callId.startsWith(session) && !session.includes('Σ')))
    text += session + SEP
  if (typeof h.reason === 'string') text += h.reason + SEP
  if (typeof h.rule === 'string') text += h.rule + SEP
  if (typeof h.detail === 'string') text += h.detail + SEP
  if (argsJson !== undefined) text += argsJson + SEP
  return text.toLowerCase()
}

/**
 * An outcome's searchable text, lowercased: detail, reason and rule. Its callId, session, server,
 * tool and client are its call's.
 */
function outcomeText(h: Head): string {
  let text = ''
  for (const v of [h.detail, h.reason, h.rule]) if (typeof v === 'string') text += v + SEP
  return text.toLowerCase()
}

/**
 * Whether the corpus can answer a search for `needle` (lowercased). UTF-8 encoding turns lone
 * surrogates into U+FFFD, and SEP ends fields: needles holding any of these go to the disk.
 */
function corpusCanSearch(needle: string): boolean {
  return !needle.includes(SEP) && !needle.includes('\ufffd') && !/\p{Cs}/u.test(needle)
}

/** The byte length of a record's stored line (with "\n"), as the writer produced it. */
export function storedLength(rec: AuditRecord): number {
  return Buffer.byteLength(storedLine(canonicalLine(rec), rec.hash), 'utf8')
}

/** `buf` with room for `needed` bytes: doubled, but past `cap` only as far as needed. */
function ensureBytes(buf: Buffer, used: number, needed: number, cap: number): Buffer {
  if (buf.length >= needed) return buf
  const next = Buffer.allocUnsafe(Math.max(needed, Math.min(buf.length * 2, cap)))
  buf.copy(next, 0, 0, used)
  return next
}

function resized<T extends Uint32Array | Int32Array>(
  a: T,
  size: number,
  used: number,
  make: (n: number) => T,
): T {
  const b = make(size)
  b.set(a.subarray(0, used) as never)
  return b
}

/**
 * The lowercased searchable text of the newest call rows, `from` to the last. Each row's call
 * text is one segment of `buf` (row order, so a hit maps to its row by binary search over
 * `starts`); an outcome's text, which arrives later, is a segment of `dbuf` that names its row.
 * Holds at most `cap` bytes: past that, the oldest rows are dropped (a quarter of the cap at a
 * time, so the copying stays linear) and their text is searched on disk.
 */
class TextCorpus {
  /** First row covered; rows `from` .. `from + count - 1` are, and the last is the index's newest. */
  from = 0
  private count = 0
  private buf: Buffer = Buffer.alloc(0)
  private len = 0
  /** Offset in `buf` of row `from + j`'s text. */
  private starts = new Uint32Array(1024)
  private dbuf: Buffer = Buffer.alloc(0)
  private dlen = 0
  private dcount = 0
  private dstart = new Uint32Array(64)
  /** The row of each outcome segment. */
  private drow = new Int32Array(64)
  /** The newest row when the segment was added: no earlier segment names a later row. */
  private dbound = new Int32Array(64)

  constructor(readonly cap: number) {}

  /** Bytes of text held. */
  get size(): number {
    return this.len + this.dlen
  }

  /** Rows covered. */
  get rows(): number {
    return this.count
  }

  /** Bytes allocated. */
  get allocated(): number {
    return (
      this.buf.length +
      this.dbuf.length +
      this.starts.byteLength +
      this.dstart.byteLength +
      this.drow.byteLength +
      this.dbound.byteLength
    )
  }

  /** Appends the text of `row`, the index's new newest row; without text, the row is left to the disk. */
  addRow(row: number, text: string | undefined): void {
    if (row !== this.from + this.count) this.reset(row)
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const max = text === undefined ? Infinity : text.length * 3
    if (text === undefined || !this.reserve(max)) {
      this.reset(row + 1)
      return
    }
    if (this.count === this.starts.length)
      this.starts = resized(this.starts, this.count * 2, this.count, (n) => new Uint32Array(n))
    this.buf = ensureBytes(this.buf, this.len, this.len + max, this.cap)
    this.starts[this.count++] = this.len
    this.len += this.buf.write(text, this.len)
  }

  /** Adds outcome text of `row`, if the corpus still covers it. */
  addOutcome(row: number, text: string): void {
    if (row < this.from || text === '') return
    const max = text.length * 3
    if (!this.reserve(max)) {
      this.dropTo(row + 1)
      return
    }
    if (row < this.from) return
    if (this.dcount === this.dstart.length) {
      const size = this.dcount * 2
      this.dstart = resized(this.dstart, size, this.dcount, (n) => new Uint32Array(n))
      this.drow = resized(this.drow, size, this.dcount, (n) => new Int32Array(n))
      this.dbound = resized(this.dbound, size, this.dcount, (n) => new Int32Array(n))
    }
    this.dbuf = ensureBytes(this.dbuf, this.dlen, this.dlen + max, this.cap)
    this.dstart[this.dcount] = this.dlen
    this.drow[this.dcount] = row
    this.dbound[this.dcount] = this.from + this.count - 1
    this.dcount++
    this.dlen += this.dbuf.write(text, this.dlen)
  }

  /** The index dropped its oldest `k` rows: forget their text, renumber the rest. */
  shiftRows(k: number): void {
    if (k > this.from) this.dropTo(k)
    this.from -= k
    for (let s = 0; s < this.dcount; s++) {
      this.drow[s] = (this.drow[s] as number) - k
      this.dbound[s] = (this.dbound[s] as number) - k
    }
  }

  /** Allocates room for about `bytes` of call text at once (before loading). */
  expect(bytes: number): void {
    this.buf = ensureBytes(this.buf, this.len, Math.min(Math.ceil(bytes), this.cap), this.cap)
  }

  /** Gives back much of the growth headroom (after loading). */
  trim(): void {
    const fit = (size: number): number => Math.ceil(size * 1.25) + 1024
    if (this.buf.length > fit(this.len) * 1.2)
      this.buf = this.copied(this.buf, this.len, fit(this.len))
    if (this.dbuf.length > fit(this.dlen) * 1.2)
      this.dbuf = this.copied(this.dbuf, this.dlen, fit(this.dlen))
    if (this.starts.length > fit(this.count) * 1.2)
      this.starts = resized(this.starts, fit(this.count), this.count, (n) => new Uint32Array(n))
  }

  /**
   * Searches the text of rows up to `hi`, in one forward pass over about `window` bytes ending
   * with row `hi`. Returns the first row searched and the rows that hold `needle`, ascending.
   */
  callWindow(needle: Buffer, hi: number, window: number): { first: number; hits: number[] } {
    const end = this.rowEnd(hi - this.from)
    const j = this.segmentAt(this.starts, this.count, Math.max(0, end - window))
    const hits: number[] = []
    const hay = this.buf.subarray(0, end)
    let p = hay.indexOf(needle, this.starts[j] as number)
    while (p !== -1) {
      const k = this.segmentAt(this.starts, this.count, p)
      hits.push(this.from + k)
      const next = this.rowEnd(k)
      p = next < end ? hay.indexOf(needle, next) : -1
    }
    return { first: this.from + j, hits }
  }

  /** Outcome segments not yet searched by a cursor start at 0 and end before this one. */
  get outcomeSegments(): number {
    return this.dcount
  }

  /** The newest row any outcome segment before `seg` can name (-1 when there is none). */
  boundBefore(seg: number): number {
    return seg > 0 ? (this.dbound[seg - 1] as number) : -1
  }

  /**
   * Searches outcome segments before `end`, in one forward pass over about `window` bytes.
   * Returns the first segment searched and the rows of those that hold `needle`.
   */
  outcomeWindow(needle: Buffer, end: number, window: number): { first: number; hits: number[] } {
    const stop = end < this.dcount ? (this.dstart[end] as number) : this.dlen
    const first = this.segmentAt(this.dstart, end, Math.max(0, stop - window))
    const hits: number[] = []
    const hay = this.dbuf.subarray(0, stop)
    let p = hay.indexOf(needle, this.dstart[first] as number)
    while (p !== -1) {
      const s = this.segmentAt(this.dstart, end, p)
      hits.push(this.drow[s] as number)
      const next = s + 1 < this.dcount ? (this.dstart[s + 1] as number) : this.dlen
      p = next < stop ? hay.indexOf(needle, next) : -1
    }
    return { first, hits }
  }

  private copied(buf: Buffer, used: number, size: number): Buffer {
    const next = Buffer.allocUnsafe(size)
    buf.copy(next, 0, 0, used)
    return next
  }

  /** End offset of the text of row `from + j`. */
  private rowEnd(j: number): number {
    return j + 1 < this.count ? (this.starts[j + 1] as number) : this.len
  }

  /** The last of the first `count` segments starting at or before `offset`. */
  private segmentAt(starts: Uint32Array, count: number, offset: number): number {
    let lo = 0
    let hi = count - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if ((starts[mid] as number) <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** Makes room for `max` more bytes within the cap, dropping the oldest rows; false when `max` exceeds the cap. */
  private reserve(max: number): boolean {
    if (max > this.cap) return false
    if (this.len + this.dlen + max <= this.cap) return true
    const keep = Math.floor(this.cap * 0.75) - max - this.dlen
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.len - (this.starts[mid] as number) <= keep) hi = mid
      else lo = mid + 1
    }
    this.dropTo(this.from + lo)
    return this.len + this.dlen + max <= this.cap
  }

  /** Forgets the text of the rows before `row`. */
  private dropTo(row: number): void {
    const k = Math.min(row - this.from, this.count)
    if (k <= 0) return
    const shift = k < this.count ? (this.starts[k] as number) : this.len
    this.buf.copyWithin(0, shift, this.len)
    this.len -= shift
    this.starts.copyWithin(0, k, this.count)
    this.count -= k
    for (let j = 0; j < this.count; j++) this.starts[j] = (this.starts[j] as number) - shift
    this.from += k
    // Outcome segments of the dropped rows go too; the kept ones move in runs, one copy a run.
    let kept = 0
    let at = 0
    let run = -1
    const flush = (end: number): void => {
      if (run === -1) return
      this.dbuf.copyWithin(at, run, end)
      at += end - run
      run = -1
    }
    for (let s = 0; s < this.dcount; s++) {
      const a = this.dstart[s] as number
      if ((this.drow[s] as number) < this.from) {
        flush(a)
        continue
      }
      if (run === -1) run = a
      this.dstart[kept] = at + a - run
      this.drow[kept] = this.drow[s] as number
      this.dbound[kept] = this.dbound[s] as number
      kept++
    }
    flush(this.dlen)
    this.dcount = kept
    this.dlen = at
  }

  private reset(from: number): void {
    this.from = from
    this.count = 0
    this.len = 0
    this.dcount = 0
    this.dlen = 0
  }
}

/** Where the answer of one side of a {@link CorpusCursor} lies: found `lo` (-1: none yet), at most `hi`. */
interface Bounds {
  lo: number
  hi: number
}
const NONE: Bounds = { lo: -1, hi: -1 }

/**
 * Finds, for descending rows, the newest corpus row at or below each that holds the needle in
 * its call or outcome text. Searches forward (native `indexOf`, far faster than `lastIndexOf`)
 * over windows that end at the row asked for, growing from {@link MIN_WINDOW} while hits are
 * rare, so that a rare needle takes few passes and rows skipped by other filters are not
 * searched. Call and outcome text are searched a window at a time, whichever may hold the newer
 * row first, so neither is searched past the other's hit.
 */
class CorpusCursor {
  /** Rows `first`..`last` of the call text were searched; these of them hold the needle and were not passed yet, ascending. */
  private hits: number[] = []
  private first = 0
  private last = -1
  private window = MIN_WINDOW
  /** Rows found in outcome text not yet passed, as a max-heap. */
  private readonly outcomeHits: number[] = []
  /** Outcome segments before this one are not searched yet. */
  private outcomeEnd: number
  /** The newest row an unsearched outcome segment can name. */
  private outcomeBound: number
  private outcomeWindowBytes = MIN_WINDOW

  constructor(
    private readonly corpus: TextCorpus,
    private readonly needle: Buffer,
  ) {
    this.outcomeEnd = corpus.outcomeSegments
    this.outcomeBound = corpus.boundBefore(this.outcomeEnd)
  }

  /** The newest row at or below `i` (and not below `corpus.from`) holding the needle, or -1. Calls must not ascend. */
  atOrBelow(i: number): number {
    for (;;) {
      const c = this.callBounds(i)
      const o = this.outcomeBounds(i)
      const found = Math.max(c.lo, o.lo)
      if (found >= c.hi && found >= o.hi) return found
      if (c.hi >= o.hi) this.searchCalls(i)
      else this.searchOutcomes(i)
    }
  }

  private callBounds(i: number): Bounds {
    i = Math.min(i, this.corpus.from + this.corpus.rows - 1)
    if (i < this.corpus.from) return NONE
    if (i < this.first || i > this.last) return { lo: -1, hi: i }
    while (this.hits.length > 0 && (this.hits.at(-1) as number) > i) this.hits.pop()
    const hit = this.hits.at(-1)
    if (hit !== undefined) return { lo: hit, hi: hit }
    return this.first <= this.corpus.from ? NONE : { lo: -1, hi: this.first - 1 }
  }

  /** Searches the next window of call text, below the rows searched when `i` is among them. */
  private searchCalls(i: number): void {
    i = Math.min(i, this.corpus.from + this.corpus.rows - 1)
    const below = i >= this.first && i <= this.last
    const end = below ? this.first - 1 : i
    const w = this.corpus.callWindow(this.needle, end, this.window)
    if (w.hits.length < DENSE_HITS) this.window = Math.min(MAX_WINDOW, this.window * 2)
    // Right below the searched rows, the searched stretch grows; elsewhere it starts anew.
    if (end !== this.first - 1) this.last = end
    this.first = w.first
    this.hits = w.hits
  }

  private outcomeBounds(i: number): Bounds {
    const heap = this.outcomeHits
    while (heap.length > 0 && (heap[0] as number) > i) heapPop(heap)
    const top = heap[0] ?? -1
    const open = this.outcomeBound >= this.corpus.from ? Math.min(this.outcomeBound, i) : -1
    return { lo: top, hi: Math.max(top, open) }
  }

  private searchOutcomes(i: number): void {
    const w = this.corpus.outcomeWindow(this.needle, this.outcomeEnd, this.outcomeWindowBytes)
    if (w.hits.length < DENSE_HITS)
      this.outcomeWindowBytes = Math.min(MAX_WINDOW, this.outcomeWindowBytes * 2)
    for (const row of w.hits)
      if (row <= i && row >= this.corpus.from) heapPush(this.outcomeHits, row)
    this.outcomeEnd = w.first
    this.outcomeBound = this.corpus.boundBefore(w.first)
  }
}

function heapPush(heap: number[], v: number): void {
  let k = heap.length
  heap.push(v)
  while (k > 0) {
    const parent = (k - 1) >>> 1
    if ((heap[parent] as number) >= v) break
    heap[k] = heap[parent] as number
    k = parent
  }
  heap[k] = v
}

function heapPop(heap: number[]): void {
  const v = heap.pop() as number
  const n = heap.length
  if (n === 0) return
  let k = 0
  for (;;) {
    let c = 2 * k + 1
    if (c >= n) break
    if (c + 1 < n && (heap[c + 1] as number) > (heap[c] as number)) c++
    if ((heap[c] as number) <= v) break
    heap[k] = heap[c] as number
    k = c
  }
  heap[k] = v
}

/** A sequential reader of lines by offset, reading large chunks backwards (for text scans). */
class ChunkReader {
  private fileId = -1
  private start = 0
  private buf: Buffer = Buffer.alloc(0)
  /** Start offsets (in the chunk) of the needle's case-insensitive matches, ascending. */
  private hits: number[] = []
  private needle = ''

  constructor(private readonly index: AuditIndex) {}

  /** Whether the line at (file, off, len) contains the lowercase ASCII needle; undefined when the file is gone. */
  contains(fileId: number, off: number, len: number, needle: string): boolean | undefined {
    if (!this.load(fileId, off, len, needle)) return undefined
    const s = off - this.start
    const last = s + len - needle.length
    // First hit at or after the line's start.
    let lo = 0
    let hi = this.hits.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.hits[mid] as number) < s) lo = mid + 1
      else hi = mid
    }
    return lo < this.hits.length && (this.hits[lo] as number) <= last
  }

  /** The line's text (utf8), or undefined when its file is gone. */
  text(fileId: number, off: number, len: number): string | undefined {
    if (!this.load(fileId, off, len, this.needle)) return undefined
    const s = off - this.start
    return this.buf.toString('utf8', s, s + len)
  }

  private load(fileId: number, off: number, len: number, needle: string): boolean {
    const cached =
      fileId === this.fileId && off >= this.start && off + len <= this.start + this.buf.length
    if (!cached) {
      const end = off + len
      const start = Math.max(0, end - Math.max(SCAN_CHUNK, len))
      const buf = this.index.readBytes(fileId, start, end - start)
      if (!buf) return false
      this.fileId = fileId
      this.start = start
      this.buf = buf
      this.needle = ''
    }
    if (needle !== this.needle) {
      this.needle = needle
      this.hits = []
      if (needle !== '') {
        // latin1: one char per byte, so positions are byte offsets, and an ASCII needle never
        // matches inside a multi-byte UTF-8 sequence.
        const re = new RegExp(latin1Pattern(needle), 'gi')
        const text = this.buf.toString('latin1')
        for (let m = re.exec(text); m; m = re.exec(text)) {
          this.hits.push(m.index)
          re.lastIndex = m.index + 1
        }
      }
    }
    return true
  }
}

/**
 * A pattern over latin1 text (a byte per char) for an ASCII needle, to use with the `i` flag.
 * Two non-ASCII characters lowercase to text holding ASCII letters, and the search is by
 * lowercase: KELVIN SIGN (UTF-8 e2 84 aa) is "k", and İ (c4 b0) is "i" followed by U+0307, so
 * it stands for an "i" only at the needle's end.
 */
function latin1Pattern(needle: string): string {
  let p = ''
  for (let j = 0; j < needle.length; j++) {
    const ch = needle[j] as string
    if (ch === 'k' || ch === 'K') p += '(?:k|\\xe2\\x84\\xaa)'
    else if ((ch === 'i' || ch === 'I') && j === needle.length - 1) p += '(?:i|\\xc4\\xb0)'
    else p += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
  }
  return p
}

/** The audit index. Create, `load()` once, then `add` every record the gateway writes. */
export class AuditIndex {
  private n = 0
  private cap = 0
  private seq = new Float64Array(0)
  private ts = new Float64Array(0)
  private server = new Int32Array(0)
  private tool = new Int32Array(0)
  private client = new Int32Array(0)
  private decision = new Uint8Array(0)
  private file = new Int32Array(0)
  private off = new Float64Array(0)
  private len = new Int32Array(0)
  private outcome = new Uint8Array(0)
  private latency = new Float64Array(0)
  private ofile = new Int32Array(0)
  private ooff = new Float64Array(0)
  private olen = new Int32Array(0)
  /** 1 when the outcome record has a `detail` (the only text of an outcome a search can hit). */
  private odetail = new Uint8Array(0)
  private sorted = true
  private readonly servers = new Interner()
  private readonly tools = new Interner()
  private readonly clients = new Interner()
  private readonly files = new Interner()
  private readonly deadFiles = new Set<number>()
  /** Forwarded calls whose outcome has not arrived: callId → row. */
  private readonly open = new Map<string, number>()
  private loadedSeq = 0
  private loading: Promise<void> | undefined
  private ready = false
  private pendingAdds: {
    rec: AuditRecord
    file: string
    offset: number
    length: number
    known: KnownText | undefined
  }[] = []
  private fds = new Map<number, number>()
  private readonly corpus: TextCorpus
  private readonly maxRows: number
  /**
   * Every call with seq at or above this is held (once loaded); 0 when every call on disk is.
   * Older calls are read from the files.
   */
  private floorSeq = 0

  constructor(
    readonly dir: string,
    private readonly log: (msg: string) => void = () => {},
    options: AuditIndexOptions = {},
  ) {
    this.grow(1024)
    this.maxRows = Math.max(1, Math.floor(options.maxRows ?? DEFAULT_MAX_ROWS))
    this.corpus = new TextCorpus(
      Math.max(0, Math.min(options.corpusBytes ?? DEFAULT_CORPUS_BYTES, 0xffff_ffff)),
    )
  }

  /** Number of call rows. */
  get size(): number {
    return this.n
  }

  /** Whether `load` finished. */
  get isReady(): boolean {
    return this.ready
  }

  /** Calls with seq below this are not held but read from the files (0: all are held). */
  get oldestHeldSeq(): number {
    return this.floorSeq
  }

  /**
   * Reads every audit file once (oldest first), indexing complete lines. Records `add`ed while
   * loading are applied afterwards, skipping those the files already held. Idempotent.
   */
  load(): Promise<void> {
    this.loading ??= this.loadFiles().then(
      () => this.finishLoad(),
      (err: unknown) => {
        this.log(
          `audit index: loading failed (${(err as Error).message}); the Activity view shows only new calls`,
        )
        this.finishLoad()
      },
    )
    return this.loading
  }

  private finishLoad(): void {
    // Doubling may have left up to half the arrays empty: keep a quarter of headroom.
    if (this.cap > this.n * 1.5 && this.n > 1024) this.grow(Math.ceil(this.n * 1.25))
    this.corpus.trim()
    this.ready = true
    const pending = this.pendingAdds
    this.pendingAdds = []
    for (const p of pending)
      if (p.rec.seq > this.loadedSeq) this.index(p.rec, p.file, p.offset, p.length, p.known)
  }

  private async loadFiles(): Promise<void> {
    const all = listAuditFiles(this.dir, (d) => fs.readdirSync(d))
    // The newest files that can fill the rows held; older ones are read only for older pages.
    const budget = this.maxRows * LOAD_BYTES_PER_ROW
    let total = 0
    let from = all.length
    while (from > 0 && total < budget) {
      from--
      try {
        total += fs.statSync((all[from] as { path: string }).path).size
      } catch {
        // Gone: skipped below.
      }
    }
    const files = all.slice(from)
    let skipped = from > 0
    // Call text is about a sixth of the log: room for it at once spares copying as it doubles.
    if (this.corpus.cap > 0) this.corpus.expect(total / 5)
    // The rows these files can hold (a stored call record takes more than MIN_ROW_BYTES), at
    // once: the arrays are not copied as they double, and no freed copies are left behind.
    const rows = Math.min(this.rowCap(), Math.ceil(total / MIN_ROW_BYTES))
    if (rows > this.cap) this.grow(rows)
    // One read buffer for every file; a line cut by a read moves to its front.
    let buf = Buffer.allocUnsafe(LOAD_CHUNK)
    for (const f of files) {
      let handle: fs.promises.FileHandle
      try {
        handle = await fs.promises.open(f.path, 'r')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      try {
        const fileId = this.files.id(f.path)
        let pos = 0
        let carried = 0
        for (;;) {
          if (buf.length - carried < LOAD_CHUNK / 2) {
            // A line longer than half the buffer: a larger one, once.
            const bigger = Buffer.allocUnsafe(buf.length * 2)
            buf.copy(bigger, 0, 0, carried)
            buf = bigger
          }
          const { bytesRead } = await handle.read(buf, carried, buf.length - carried, pos)
          if (bytesRead <= 0) break
          const data = buf.subarray(0, carried + bytesRead)
          const base = pos - carried
          pos += bytesRead
          let start = 0
          for (let nl = data.indexOf(NL, start); nl !== -1; nl = data.indexOf(NL, start)) {
            if (nl > start) {
              const parsed = parseHead(data.toString('utf8', start, nl))
              if (parsed && skipped) {
                // Calls below the first record loaded are in the files not read.
                skipped = false
                this.floorSeq = parsed.head.seq
              }
              if (parsed) {
                this.indexHead(
                  parsed.head,
                  fileId,
                  base + start,
                  nl + 1 - start,
                  parsed.argsJson,
                  NaN,
                )
                if (parsed.head.seq > this.loadedSeq) this.loadedSeq = parsed.head.seq
              }
            }
            start = nl + 1
          }
          // An unterminated tail is a write in progress: its record arrives through `add`.
          carried = data.length - start
          if (carried > 0) data.copy(buf, 0, start)
        }
      } finally {
        await handle.close()
      }
    }
  }

  /**
   * Indexes a record the gateway just wrote at `offset` (its stored line is `length` bytes,
   * "\n" included) of `file`. Before `load` finishes, the record is held and applied after.
   */
  add(
    rec: AuditRecord,
    file: string,
    offset: number,
    length: number,
    known?: KnownText,
  ): AddResult {
    if (!this.ready) {
      this.pendingAdds.push({ rec, file, offset, length, known })
      return { kind: 'ignored' }
    }
    return this.index(rec, file, offset, length, known)
  }

  private index(
    rec: AuditRecord,
    file: string,
    offset: number,
    length: number,
    known: KnownText | undefined,
  ): AddResult {
    const argsJson =
      rec.kind !== 'outcome' && rec.args !== undefined && this.corpus.cap > 0
        ? (known?.argsJson ?? JSON.stringify(rec.args))
        : undefined
    return this.indexHead(rec, this.files.id(file), offset, length, argsJson, known?.tsMs ?? NaN)
  }

  /** `tsMs`: `Date.parse(h.ts)` when the caller knows it, else NaN. */
  private indexHead(
    h: Head,
    fileId: number,
    offset: number,
    length: number,
    argsJson: string | undefined,
    tsMs: number,
  ): AddResult {
    // A server's request to the client is a row too (it has no outcome record).
    if (h.kind === 'call' || h.kind === 'server_request') {
      if (this.n === this.cap) this.grow(Math.min(this.cap * 2, this.rowCap()))
      const i = this.n++
      if (i > 0 && h.seq <= (this.seq[i - 1] as number)) this.sorted = false
      this.seq[i] = h.seq
      this.ts[i] = Number.isNaN(tsMs) ? Date.parse(h.ts) : tsMs
      this.server[i] = this.servers.id(h.server)
      this.tool[i] = this.tools.id(h.tool)
      this.client[i] = h.client === undefined ? -1 : this.clients.id(h.client)
      this.decision[i] =
        DECISION_CODE.get(h.decision as AuditDecision) ?? (DECISION_CODE.get('error') as number)
      this.file[i] = fileId
      this.off[i] = offset
      this.len[i] = length
      this.outcome[i] = 0
      this.latency[i] = NaN
      this.ofile[i] = -1
      this.odetail[i] = 0
      if (h.kind === 'call' && (h.decision === 'allow' || h.decision === 'approved'))
        this.open.set(h.callId, i)
      this.corpus.addRow(i, this.corpus.cap > 0 ? callText(h, argsJson) : undefined)
      if (this.n > this.maxRows + Math.ceil(this.maxRows / 5)) {
        // Linear overall: a fifth of the rows go at once.
        const k = this.n - this.maxRows
        this.floorSeq = Math.max(this.floorSeq, (this.seq[k - 1] as number) + 1)
        this.dropOldest(k)
        return { kind: 'call', row: i - k }
      }
      return { kind: 'call', row: i }
    }
    if (h.kind === 'outcome') {
      const i = this.open.get(h.callId)
      if (i === undefined) return { kind: 'ignored' }
      this.open.delete(h.callId)
      this.outcome[i] =
        OUTCOME_CODE.get(h.outcome as AuditOutcome) ?? OUTCOME_CODE.get('error') ?? 0
      this.latency[i] = typeof h.latencyMs === 'number' ? h.latencyMs : NaN
      this.ofile[i] = fileId
      this.ooff[i] = offset
      this.olen[i] = length
      this.odetail[i] = h.detail === undefined ? 0 : 1
      if (h.detail !== undefined && i >= this.corpus.from) this.corpus.addOutcome(i, outcomeText(h))
      return { kind: 'outcome', row: i }
    }
    return { kind: 'ignored' }
  }

  /** The most rows ever held: past it, the oldest are dropped back to `maxRows`. */
  private rowCap(): number {
    return this.maxRows + Math.ceil(this.maxRows / 5) + 1
  }

  private grow(cap: number): void {
    const g = <T extends Float64Array | Int32Array | Uint8Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(cap)
      b.set(a.subarray(0, this.n) as never)
      return b
    }
    this.seq = g(this.seq, (n) => new Float64Array(n))
    this.ts = g(this.ts, (n) => new Float64Array(n))
    this.server = g(this.server, (n) => new Int32Array(n))
    this.tool = g(this.tool, (n) => new Int32Array(n))
    this.client = g(this.client, (n) => new Int32Array(n))
    this.decision = g(this.decision, (n) => new Uint8Array(n))
    this.file = g(this.file, (n) => new Int32Array(n))
    this.off = g(this.off, (n) => new Float64Array(n))
    this.len = g(this.len, (n) => new Int32Array(n))
    this.outcome = g(this.outcome, (n) => new Uint8Array(n))
    this.latency = g(this.latency, (n) => new Float64Array(n))
    this.ofile = g(this.ofile, (n) => new Int32Array(n))
    this.ooff = g(this.ooff, (n) => new Float64Array(n))
    this.olen = g(this.olen, (n) => new Int32Array(n))
    this.odetail = g(this.odetail, (n) => new Uint8Array(n))
    this.cap = cap
  }

  /** Bytes the typed arrays and the search corpus take (for the benchmark's memory figure). */
  bytes(): number {
    return (
      this.cap * (8 + 8 + 4 + 4 + 4 + 1 + 4 + 8 + 4 + 1 + 8 + 4 + 8 + 4 + 1) + this.corpus.allocated
    )
  }

  /**
   * The server, tool and client names of the calls held, sorted (suggestions for the filters), at
   * most `max` of each.
   */
  names(max = 1000): { servers: string[]; tools: string[]; clients: string[] } {
    const list = (i: Interner): string[] =>
      i.names
        .filter((n) => n !== '')
        .sort((a, b) => a.localeCompare(b))
        .slice(0, max)
    return { servers: list(this.servers), tools: list(this.tools), clients: list(this.clients) }
  }

  /** The search corpus: bytes of text held, bytes allocated, rows covered (the newest). */
  corpusStats(): { bytes: number; allocated: number; rows: number } {
    return { bytes: this.corpus.size, allocated: this.corpus.allocated, rows: this.corpus.rows }
  }

  /**
   * A page of calls matching `filter`, newest first: at most `limit`, with seq below
   * `beforeSeq` when given. `hasMore` says whether an older match exists. Calls older than the
   * rows held are read from the files, at most `maxDiskRecords` records of them: a page cut
   * short there says where to go on (`resume`, passed back to continue; see {@link diskPage}).
   */
  query(
    filter: IndexFilter,
    limit: number,
    beforeSeq?: number,
    maxDiskRecords = Infinity,
    resume?: DiskResume,
  ): DiskPage {
    if (resume) {
      // A page cut short among the rows held goes on below the last row it looked at.
      if (resume.held) return this.query(filter, limit, resume.before, maxDiskRecords)
      return diskPage(this.dir, filter, limit, undefined, maxDiskRecords, resume)
    }
    const want = (name: string | undefined, interner: Interner): number | undefined | null =>
      name === undefined ? undefined : (interner.ids.get(name) ?? null)
    const server = want(filter.server, this.servers)
    const tool = want(filter.tool, this.tools)
    const client = want(filter.client, this.clients)
    const floor = this.floorSeq
    if (floor > 0 && beforeSeq !== undefined && beforeSeq <= floor)
      return diskPage(this.dir, filter, limit, beforeSeq, maxDiskRecords)
    if (server === null || tool === null || client === null) {
      // No held row names it; older calls on disk may.
      return floor > 0
        ? diskPage(this.dir, filter, limit, floor, maxDiskRecords)
        : { rows: [], hasMore: false }
    }
    const decision = decisionMask(filter.decision)
    const since = filter.sinceMs
    const until = filter.untilMs
    const text = filter.text?.trim() ? filter.text.toLowerCase() : undefined
    // Rows from `fast` on are searched in the corpus, older ones on disk.
    const search =
      text === undefined || !corpusCanSearch(text)
        ? undefined
        : new CorpusCursor(this.corpus, Buffer.from(text, 'utf8'))
    const fast = search ? this.corpus.from : this.n
    const nameHit = text === undefined ? undefined : this.nameMatcher(text)
    // Without other filters, jump from hit to hit; with them, search only the rows they pass.
    const jump =
      search !== undefined &&
      !nameHit &&
      server === undefined &&
      tool === undefined &&
      client === undefined &&
      decision === undefined &&
      since === undefined &&
      until === undefined
    let slowMatch: ((i: number) => boolean) | undefined
    // Rows held whose text is matched on disk count against the same budget as records read
    // from the files: past it, the page stops and says where to go on.
    let slowRead = 0

    let i = this.n - 1
    if (beforeSeq !== undefined) i = this.sorted ? this.lowerBound(beforeSeq) - 1 : i
    const rows: IndexedCall[] = []
    let hasMore = false
    try {
      for (; i >= 0; i--) {
        if (jump && i >= fast) {
          const h = search.atOrBelow(i)
          if (h !== i) {
            i = Math.max(h, fast - 1) + 1
            continue
          }
        }
        if (beforeSeq !== undefined && !((this.seq[i] as number) < beforeSeq)) continue
        if (server !== undefined && this.server[i] !== server) continue
        if (tool !== undefined && this.tool[i] !== tool) continue
        if (client !== undefined && this.client[i] !== client) continue
        if (decision !== undefined && !decision[this.decision[i] as number]) continue
        if (since !== undefined && !((this.ts[i] as number) >= since)) continue
        if (until !== undefined && !((this.ts[i] as number) <= until)) continue
        if (text !== undefined) {
          if (search && i >= fast) {
            if (!nameHit?.(i) && search.atOrBelow(i) !== i) continue
          } else {
            // (Rows out of seq order, which only a damaged log gives, are read at once.)
            if (++slowRead > maxDiskRecords && this.sorted)
              return {
                rows,
                hasMore: true,
                resume: { before: (this.seq[i] as number) + 1, outcomes: new Map(), held: true },
              }
            slowMatch ??= this.textMatcher(text)
            if (!slowMatch(i)) continue
          }
        }
        if (rows.length === limit) {
          hasMore = true
          break
        }
        // Read as found, so that a row whose file retention deleted is not counted.
        const full = this.readRow(i)
        if (full) rows.push(full)
      }
      // Calls older than the oldest held row are older than `since` too (time only moves on).
      const olderInReach = since === undefined || this.n === 0 || (this.ts[0] as number) >= since
      if (!hasMore && floor > 0 && olderInReach) {
        if (rows.length < limit) {
          // Every held row was looked at: the rest of the page is older than the window.
          const older = diskPage(this.dir, filter, limit - rows.length, floor, maxDiskRecords)
          rows.push(...older.rows)
          if (older.resume) return { rows, hasMore: true, resume: older.resume }
          hasMore = older.hasMore
        } else {
          // Older calls are on disk; whether one matches is left to the next page.
          hasMore = true
        }
      }
      return { rows, hasMore }
    } finally {
      this.closeFds()
      this.pruneDead()
    }
  }

  /**
   * Calls per server per time bucket: allowed (allow), approved, denied (everything else).
   * `filter` (its time fields aside) narrows the calls counted, as it narrows a query.
   */
  histogram(
    sinceMs: number,
    untilMs: number,
    buckets: number,
    filter: IndexFilter = {},
  ): { start: number; bucketMs: number; series: HistogramSeries[] } {
    const bucketMs = Math.max(1, Math.ceil((untilMs - sinceMs) / buckets))
    const by = new Map<number, HistogramSeries>()
    const want = (name: string | undefined, interner: Interner): number | undefined | null =>
      name === undefined ? undefined : (interner.ids.get(name) ?? null)
    const server = want(filter.server, this.servers)
    const tool = want(filter.tool, this.tools)
    const client = want(filter.client, this.clients)
    const decision = decisionMask(filter.decision)
    const text = filter.text?.trim() ? filter.text.toLowerCase() : undefined
    const none = server === null || tool === null || client === null
    let textMatch: ((i: number) => boolean) | undefined
    try {
      for (let i = none ? this.n : 0; i < this.n; i++) {
        const t = this.ts[i] as number
        if (!(t >= sinceMs && t < untilMs)) continue
        if (server !== undefined && this.server[i] !== server) continue
        if (tool !== undefined && this.tool[i] !== tool) continue
        if (client !== undefined && this.client[i] !== client) continue
        if (decision !== undefined && !decision[this.decision[i] as number]) continue
        if (text !== undefined) {
          textMatch ??= this.textMatcher(text)
          if (!textMatch(i)) continue
        }
        this.countRow(by, i, t, sinceMs, bucketMs, buckets)
      }
    } finally {
      if (text !== undefined) {
        this.closeFds()
        this.pruneDead()
      }
    }
    return {
      start: sinceMs,
      bucketMs,
      series: [...by.values()].sort((a, b) => a.server.localeCompare(b.server)),
    }
  }

  /** Adds row `i` (at time `t`) to its server's series. */
  private countRow(
    by: Map<number, HistogramSeries>,
    i: number,
    t: number,
    sinceMs: number,
    bucketMs: number,
    buckets: number,
  ): void {
    const b = Math.min(buckets - 1, Math.floor((t - sinceMs) / bucketMs))
    const sid = this.server[i] as number
    let s = by.get(sid)
    if (!s) {
      s = {
        server: this.servers.names[sid] as string,
        allowed: new Array<number>(buckets).fill(0),
        approved: new Array<number>(buckets).fill(0),
        denied: new Array<number>(buckets).fill(0),
      }
      by.set(sid, s)
    }
    const d = this.decision[i]
    const arr = d === ALLOW ? s.allowed : d === APPROVED ? s.approved : s.denied
    arr[b] = (arr[b] as number) + 1
  }

  /** The full call (and outcome) of row `i`, read from the files; undefined when gone. */
  readRow(i: number): IndexedCall | undefined {
    const call = this.readRecord(
      this.file[i] as number,
      this.off[i] as number,
      this.len[i] as number,
      this.seq[i] as number,
    )
    if (!call) return undefined
    const ofile = this.ofile[i] as number
    const outcome =
      ofile === -1
        ? undefined
        : this.readRecord(
            ofile,
            this.ooff[i] as number,
            this.olen[i] as number,
            undefined,
            call.callId,
          )
    return outcome ? { call, outcome } : { call }
  }

  /** Row `i`'s full call and outcome, closing any file it opened (for single lookups). */
  row(i: number): IndexedCall | undefined {
    try {
      return this.readRow(i)
    } finally {
      this.closeFds()
    }
  }

  /** Converts a call and its outcome to the row the Activity view shows. */
  static toCallRow(c: IndexedCall): CallRow {
    const r = c.call
    const o = c.outcome
    const row: CallRow = {
      seq: r.seq,
      ts: r.ts,
      callId: r.callId,
      session: r.session,
      server: r.server,
      tool: r.tool,
      decision: r.decision ?? 'error',
    }
    if (r.kind === 'server_request') row.kind = 'server_request'
    if (r.client !== undefined) row.client = r.client
    if (r.args !== undefined) row.args = r.args
    if (r.decidedBy !== undefined) row.decidedBy = r.decidedBy
    if (r.rule !== undefined) row.rule = r.rule
    if (r.reason !== undefined) row.reason = r.reason
    if (o?.outcome !== undefined) row.outcome = o.outcome
    if (o?.detail !== undefined) row.detail = o.detail
    if (o?.latencyMs !== undefined) row.latencyMs = o.latencyMs
    return row
  }

  /** Reads `length` bytes at `offset` of file `fileId`; undefined (and the file marked gone) on ENOENT. */
  readBytes(fileId: number, offset: number, length: number): Buffer | undefined {
    if (this.deadFiles.has(fileId)) return undefined
    let fd = this.fds.get(fileId)
    try {
      if (fd === undefined) {
        fd = fs.openSync(this.files.names[fileId] as string, 'r')
        this.fds.set(fileId, fd)
      }
      const buf = Buffer.alloc(length)
      let got = 0
      while (got < length) {
        const k = fs.readSync(fd, buf, got, length - got, offset + got)
        if (k <= 0) break
        got += k
      }
      return buf.subarray(0, got)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.deadFiles.add(fileId) // deleted by retention
        return undefined
      }
      throw err
    }
  }

  private readRecord(
    fileId: number,
    off: number,
    len: number,
    seq?: number,
    callId?: string,
  ): AuditRecord | undefined {
    const buf = this.readBytes(fileId, off, len)
    if (!buf) return undefined
    const text = buf.toString('utf8').replace(/\n$/, '')
    const rec = parseStoredLine(text)
    if (
      rec &&
      (seq === undefined || rec.seq === seq) &&
      (callId === undefined || rec.callId === callId)
    )
      return rec
    // The offset is not where we thought (should not happen): find the record by scanning.
    if (seq === undefined) return undefined
    this.log(
      `audit index: record ${seq} was not at ${this.files.names[fileId] ?? '?'}:${off}; scanning for it`,
    )
    return queryAudit(this.dir, { beforeSeq: seq + 1, limit: 1 }).find((r) => r.seq === seq)
  }

  /** Whether a row's server, tool or client holds `text`; undefined when no name does. */
  private nameMatcher(text: string): ((i: number) => boolean) | undefined {
    const hitIn = (interner: Interner): boolean[] =>
      interner.names.map((n) => n.toLowerCase().includes(text))
    const serverHit = hitIn(this.servers)
    const toolHit = hitIn(this.tools)
    const clientHit = hitIn(this.clients)
    if (!serverHit.includes(true) && !toolHit.includes(true) && !clientHit.includes(true))
      return undefined
    return (i) => {
      if (serverHit[this.server[i] as number] || toolHit[this.tool[i] as number]) return true
      const c = this.client[i] as number
      return c !== -1 && clientHit[c] === true
    }
  }

  /** Matches rows on disk: their call and outcome lines, read in large chunks. */
  private textMatcher(text: string): (i: number) => boolean {
    const nameHit = this.nameMatcher(text)
    const ascii = /^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text)
    const calls = new ChunkReader(this)
    const outcomes = new ChunkReader(this)
    const fieldsMatch = (r: AuditRecord | null): boolean => r !== null && matchesText(r, text)
    const lineMatches = (
      reader: ChunkReader,
      fileId: number,
      off: number,
      len: number,
    ): boolean => {
      if (ascii) {
        // A necessary condition on the raw bytes first; parse only the lines that pass.
        if (reader.contains(fileId, off, len, text) !== true) return false
      }
      const line = reader.text(fileId, off, len)
      return line !== undefined && fieldsMatch(parseStoredLine(line.replace(/\n$/, '')))
    }
    return (i) => {
      if (nameHit?.(i)) return true
      if (lineMatches(calls, this.file[i] as number, this.off[i] as number, this.len[i] as number))
        return true
      const of = this.ofile[i] as number
      return (
        of !== -1 &&
        this.odetail[i] === 1 &&
        lineMatches(outcomes, of, this.ooff[i] as number, this.olen[i] as number)
      )
    }
  }

  /** First row with seq >= `seq` (rows sorted by seq). */
  private lowerBound(seq: number): number {
    let lo = 0
    let hi = this.n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.seq[mid] as number) < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private closeFds(): void {
    for (const fd of this.fds.values()) {
      try {
        fs.closeSync(fd)
      } catch {
        // Already closed.
      }
    }
    this.fds.clear()
  }

  /** Drops the oldest rows whose call record's file was deleted by retention. */
  private pruneDead(): void {
    if (this.deadFiles.size === 0) return
    let k = 0
    while (k < this.n && this.deadFiles.has(this.file[k] as number)) k++
    if (k === 0) return
    this.dropOldest(k)
  }

  /** Forgets the oldest `k` rows, renumbering the rest. */
  private dropOldest(k: number): void {
    for (const a of [
      this.seq,
      this.ts,
      this.server,
      this.tool,
      this.client,
      this.decision,
      this.file,
      this.off,
      this.len,
      this.outcome,
      this.latency,
      this.ofile,
      this.ooff,
      this.olen,
      this.odetail,
    ]) {
      a.copyWithin(0, k, this.n)
    }
    this.n -= k
    this.corpus.shiftRows(k)
    for (const [callId, row] of this.open) {
      if (row < k) this.open.delete(callId)
      else this.open.set(callId, row - k)
    }
  }
}
