/**
 * Reading the audit log: iterate, query (newest first, paged), verify the hash chain, export
 * (CSV / JSONL), tail and follow. Files are append-only, so queries read them newest first,
 * each line by line from its end, and stop as soon as `limit` records matched.
 *
 * An unterminated last line (a write in progress, or torn by a crash) is never returned.
 */
import * as fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  decisionMatches,
  type AuditQuery,
  type AuditRecord,
  type DecisionFilter,
} from '../../shared/contract/audit-record'
import { matchesText } from '../../shared/audit-text'
import { parseStoredLine, sha256Hex, splitStoredLine } from './canonical'
import { csvHeader, csvRow } from './csv'
import { AuditQueryError } from './errors'
import type { AuditFile } from './files'
import { listAuditFiles, utcDay } from './files'
import { timeExpected, toMs } from '../../shared/time'

/** Default `limit` of {@link queryAudit}. */
export const DEFAULT_QUERY_LIMIT = 100

const CHUNK = 64 * 1024
const NL = 0x0a

/** Result of {@link verifyAudit}. */
export interface VerifyResult {
  ok: boolean
  /** Records checked (up to the problem, if any). */
  records: number
  /** Files checked. */
  files: number
  /** What is wrong first: "<file> line <n>: <what>". */
  problem?: string
  /** Seq and hash of the last record checked: note them elsewhere to anchor the chain's end. */
  lastSeq?: number
  lastHash?: string
}

/** Options of {@link followAudit}. */
export interface FollowOptions {
  /** Poll interval in ms (default 250). */
  intervalMs?: number
}

function auditFiles(dir: string): AuditFile[] {
  return listAuditFiles(dir, (d) => fs.readdirSync(d))
}

interface Line {
  text: string
  /** 1-based line number in its file. */
  lineNo: number
  /** False for a last line with no "\n" after it. */
  terminated: boolean
}

/** Lines of a file from the start, including an unterminated last line (flagged). */
function* linesForward(path: string): Generator<Line> {
  let fd: number
  try {
    fd = fs.openSync(path, 'r')
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return // deleted by retention meanwhile
    throw err
  }
  try {
    const buf = Buffer.alloc(CHUNK)
    let carry: Buffer | null = null
    let lineNo = 0
    let pos = 0
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos)
      if (n <= 0) break
      pos += n
      const data: Buffer = carry ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n)
      let start = 0
      for (let nl = data.indexOf(NL, start); nl !== -1; nl = data.indexOf(NL, start)) {
        yield { text: data.toString('utf8', start, nl), lineNo: ++lineNo, terminated: true }
        start = nl + 1
      }
      // Copy: `buf` is reused by the next read.
      carry = start < data.length ? Buffer.from(data.subarray(start)) : null
    }
    if (carry) yield { text: carry.toString('utf8'), lineNo: ++lineNo, terminated: false }
  } finally {
    fs.closeSync(fd)
  }
}

const SEQ_PREFIX = Buffer.from('{"seq":')

/**
 * The seq a stored line in `buf` [start, end) starts with (`{"seq":N,`, 1 to 15 digits), or
 * undefined for any other line. Read from the bytes, with nothing allocated.
 */
function seqOf(buf: Buffer, start: number, end: number): number | undefined {
  if (end - start < 9 || buf.compare(SEQ_PREFIX, 0, 7, start, start + 7) !== 0) return undefined
  let n = 0
  for (let i = start + 7; i < end && i <= start + 7 + 15; i++) {
    const c = buf[i] as number
    if (c === 0x2c) return i > start + 7 ? n : undefined // ','
    if (c < 0x30 || c > 0x39) return undefined
    n = n * 10 + (c - 0x30)
  }
  return undefined
}

/** Reads up to `len` bytes at `pos` (fewer at the end of the file). */
function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len)
  let off = 0
  while (off < len) {
    const n = fs.readSync(fd, buf, off, len - off, pos + off)
    if (n <= 0) break
    off += n
  }
  return buf.subarray(0, off)
}

/** Where the first line starting at or after `pos` starts (`size` when none does). */
function lineStartFrom(fd: number, size: number, pos: number): number {
  if (pos === 0) return 0
  for (let at = pos - 1; at < size; at += CHUNK) {
    const nl = readAt(fd, at, CHUNK).indexOf(NL)
    if (nl !== -1) return at + nl + 1
  }
  return size
}

/**
 * The offset of the first line of the file whose seq is at least `beforeSeq` (`size` when none
 * is): seqs rise through a file, so it is found by bisection, then a short forward scan. Any
 * line that does not start with its seq makes it give up and answer `size` (read everything).
 */
function firstLineFrom(fd: number, size: number, beforeSeq: number): number {
  let lo = 0 // a line start: every line before it has a lower seq
  let hi = size // a line start (or the end): its seq is at least beforeSeq
  while (hi - lo > CHUNK) {
    const s = lineStartFrom(fd, size, lo + Math.floor((hi - lo) / 2))
    if (s >= hi) break
    const head = readAt(fd, s, 32)
    const seq = seqOf(head, 0, head.length)
    if (seq === undefined) return size
    if (seq >= beforeSeq) hi = s
    else lo = s
  }
  // A few lines left: forward from lo.
  const tail = readAt(fd, lo, Math.min(hi - lo, 4 * CHUNK))
  let start = 0
  while (start < tail.length) {
    const seq = seqOf(tail, start, tail.length)
    if (seq === undefined) return size
    if (seq >= beforeSeq) return lo + start
    const nl = tail.indexOf(NL, start)
    if (nl === -1) break
    start = nl + 1
  }
  return start >= tail.length && lo + tail.length >= hi ? hi : size
}

/**
 * Complete lines of a file from the end (newest first); an unterminated tail is skipped. With
 * `beforeSeq`, starts at the first line whose seq is at least that (found by bisection), not at
 * the end: a page deep in a large file does not parse every line after it. With `need` (bytes
 * without a newline), a line in the writer's layout that does not contain them is not decoded:
 * its seq is yielded instead (the bytes are found by a native search that jumps from one
 * occurrence to the next, so lines a narrow filter cannot want cost next to nothing).
 */
function* linesBackward(
  path: string,
  beforeSeq?: number,
  need?: Buffer,
): Generator<string | number> {
  let fd: number
  try {
    fd = fs.openSync(path, 'r')
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return
    throw err
  }
  try {
    const size = fs.fstatSync(fd).size
    let pos = beforeSeq === undefined ? size : firstLineFrom(fd, size, beforeSeq)
    let pending: Buffer | null = null // the end of a line whose start is in an earlier chunk
    let seenNewline = false
    // The line [start, end) of `data`: its text, or its seq when it lacks `need`.
    const line = (data: Buffer, start: number, end: number, hit: number): string | number => {
      if (need !== undefined && hit < start) {
        const seq = seqOf(data, start, end)
        if (seq !== undefined) return seq
      }
      return data.toString('utf8', start, end)
    }
    // One buffer for every read: a chunk, then the start of the line cut at its end (what the
    // consumer gets is decoded text or a number, never a view of it).
    let buf = Buffer.allocUnsafe(0)
    while (pos > 0) {
      const len = Math.min(CHUNK, pos)
      pos -= len
      const carried = pending ? pending.length : 0
      if (buf.length < len + carried) buf = Buffer.allocUnsafe(Math.max(CHUNK, len + carried) * 2)
      let off = 0
      while (off < len) {
        const n = fs.readSync(fd, buf, off, len - off, pos + off)
        if (n <= 0) break
        off += n
      }
      if (pending) pending.copy(buf, off)
      const data = buf.subarray(0, off + carried)
      let end = data.length
      if (!seenNewline) {
        const last = data.lastIndexOf(NL)
        if (last === -1) {
          pending = null // all of it is the unterminated tail
          continue
        }
        seenNewline = true
        end = last
      }
      // Where the last occurrence of `need` before `end` starts (-1: none left in `data`).
      let hit = need === undefined ? -1 : data.lastIndexOf(need, end - 1)
      while (end > 0) {
        const nl = data.lastIndexOf(NL, end - 1)
        if (nl === -1) break
        yield line(data, nl + 1, end, hit)
        if (need !== undefined && hit > nl) hit = nl > 0 ? data.lastIndexOf(need, nl - 1) : -1
        end = nl
      }
      pending = end > 0 ? Buffer.from(data.subarray(0, end)) : Buffer.alloc(0)
    }
    if (seenNewline && pending) {
      const hit = need === undefined ? -1 : pending.lastIndexOf(need)
      yield line(pending, 0, pending.length, hit)
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** The first record of a file, or null. Reads only as far as the first newline. */
function firstRecordOf(path: string): AuditRecord | null {
  for (const line of linesForward(path)) {
    return line.terminated ? parseStoredLine(line.text) : null
  }
  return null
}

/**
 * Every record of the log, oldest first, across files; unreadable lines are skipped. With
 * `sinceMs`, files of UTC days before that time's day are not read (their records are older).
 */
export function* readRecords(dir: string, sinceMs?: number): Generator<AuditRecord> {
  const firstDay = sinceMs === undefined ? undefined : utcDay(sinceMs)
  for (const f of auditFiles(dir)) {
    if (firstDay !== undefined && f.day < firstDay) continue
    for (const line of linesForward(f.path)) {
      if (!line.terminated) continue
      const r = parseStoredLine(line.text)
      if (r) yield r
    }
  }
}

interface CompiledQuery {
  server?: string
  tool?: string
  decision?: DecisionFilter
  client?: string
  kind?: 'call' | 'outcome' | 'server_request'
  sinceMs?: number
  untilMs?: number
  text?: string
  /** Text usable on the raw line as a quick necessary condition. */
  lineText?: string
  beforeSeq?: number
  limit: number
}

function queryTime(value: string | number, field: string): number {
  const ms = toMs(value)
  if (ms === undefined) throw new AuditQueryError(`audit query: ${field}: ${timeExpected(value)}`)
  return ms
}

function compileQuery(q: AuditQuery): CompiledQuery {
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT
  if (!Number.isInteger(limit) || limit < 1) {
    throw new AuditQueryError(
      `audit query: limit: expected a positive integer, got ${String(q.limit)}`,
    )
  }
  const text = q.text?.trim() ? q.text.toLowerCase() : undefined
  return {
    server: q.server,
    tool: q.tool,
    decision: q.decision,
    client: q.client,
    kind: q.kind,
    sinceMs: q.since === undefined ? undefined : queryTime(q.since, 'since'),
    untilMs: q.until === undefined ? undefined : queryTime(q.until, 'until'),
    text,
    // ASCII without what JSON escapes appears verbatim in the line if it appears in a field.
    lineText:
      text !== undefined && /^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text) ? text : undefined,
    beforeSeq: q.beforeSeq,
    limit,
  }
}

function matches(r: AuditRecord, q: CompiledQuery): boolean {
  if (q.beforeSeq !== undefined && !(r.seq < q.beforeSeq)) return false
  if (q.server !== undefined && r.server !== q.server) return false
  if (q.tool !== undefined && r.tool !== q.tool) return false
  if (!decisionMatches(q.decision, r.decision)) return false
  if (q.client !== undefined && r.client !== q.client) return false
  if (q.kind !== undefined && r.kind !== q.kind) return false
  if (q.sinceMs !== undefined || q.untilMs !== undefined) {
    const t = Date.parse(r.ts)
    if (q.sinceMs !== undefined && !(t >= q.sinceMs)) return false
    if (q.untilMs !== undefined && !(t <= q.untilMs)) return false
  }
  if (q.text !== undefined && !matchesText(r, q.text)) return false
  return true
}

/** Matching records, newest first, stopping after `limit`; files newest first, lines from the end. */
function* scanNewestFirst(
  dir: string,
  q: CompiledQuery,
): Generator<{ record: AuditRecord; line: string }> {
  let found = 0
  for (const line of linesNewestFirst(dir, q.beforeSeq, q.sinceMs)) {
    if (typeof line !== 'string') continue // (only with `need`)
    if (q.lineText !== undefined && !line.toLowerCase().includes(q.lineText)) continue
    const record = parseStoredLine(line)
    if (!record || !matches(record, q)) continue
    yield { record, line }
    if (++found >= q.limit) return
  }
}

/**
 * The stored lines (without "\n") of every complete record, newest first, unparsed, read lazily:
 * from the first line whose seq is at least `beforeSeq` down (when given; lines above it may
 * follow in a file that does not start with a seq), and no file of a UTC day before `sinceMs`.
 * With `need`, a line without those bytes comes as its seq alone (see linesBackward).
 */
export function* linesNewestFirst(
  dir: string,
  beforeSeq?: number,
  sinceMs?: number,
  need?: Buffer,
): Generator<string | number> {
  const files = auditFiles(dir)
  // A file's records are no later than its day (the writer never goes back a day).
  const sinceDay = sinceMs === undefined ? undefined : utcDay(sinceMs)
  let seeked = false
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i] as AuditFile
    if (sinceDay !== undefined && f.day < sinceDay) return
    if (beforeSeq !== undefined) {
      const first = firstRecordOf(f.path)
      if (first && first.seq >= beforeSeq) continue
    }
    // Only the newest file read can hold records at or after beforeSeq: start below them.
    const from = seeked ? undefined : beforeSeq
    seeked = true
    yield* linesBackward(f.path, from, need)
  }
}

/** The seq a stored line starts with (`{"seq":N,`), or undefined when it does not. */
export function seqOfLine(line: string): number | undefined {
  if (!line.startsWith('{"seq":')) return undefined
  const end = line.indexOf(',', 7)
  if (end < 8 || end > 24) return undefined
  const n = Number(line.slice(7, end))
  return Number.isSafeInteger(n) ? n : undefined
}

/**
 * Every complete record with seq below `beforeSeq` (when given), newest first, read lazily; files
 * of days before `sinceMs` (when given) are not read. For pages the Activity index does not hold.
 */
export function* recordsNewestFirst(
  dir: string,
  beforeSeq?: number,
  sinceMs?: number,
): Generator<AuditRecord> {
  for (const line of linesNewestFirst(dir, beforeSeq, sinceMs)) {
    if (typeof line !== 'string') continue // (only with `need`)
    const record = parseStoredLine(line)
    if (record) yield record
  }
}

/**
 * Records matching every field of `q` (ANDed), newest first, at most `q.limit` (default 100).
 * `text` is a case-insensitive substring of tool, server, client, reason, detail, rule, callId,
 * session or the arguments' JSON. Page with `beforeSeq` = the last seq of the previous page.
 * Throws {@link AuditQueryError} for an unusable `since`/`until`/`limit`.
 */
export function queryAudit(dir: string, q: AuditQuery = {}): AuditRecord[] {
  const out: AuditRecord[] = []
  for (const { record } of scanNewestFirst(dir, compileQuery(q))) out.push(record)
  return out
}

/** The last `n` records, oldest first. */
export function tailAudit(dir: string, n: number): AuditRecord[] {
  if (!(n > 0)) return []
  return queryAudit(dir, { limit: Math.floor(n) }).reverse()
}

/**
 * Checks the whole log: every line's hash against its bytes (see canonical.ts), every `prev`
 * against the hash of the record before it (across files), and `seq` strictly +1. The first
 * record of the oldest file is the anchor: its `prev` is accepted (older files may have been
 * deleted by retention). An unterminated last line of the newest file is a write in progress
 * or a crash the next open recovers, and is not counted.
 */
export function verifyAudit(dir: string): VerifyResult {
  const files = auditFiles(dir)
  let records = 0
  let last: { seq: number; hash: string } | undefined
  const result = (problem?: string): VerifyResult => ({
    ok: problem === undefined,
    records,
    files: files.length,
    ...(problem === undefined ? {} : { problem }),
    ...(last ? { lastSeq: last.seq, lastHash: last.hash } : {}),
  })
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as AuditFile
    const newest = i === files.length - 1
    for (const line of linesForward(f.path)) {
      const where = `${f.name} line ${line.lineNo}`
      if (!line.terminated) {
        if (newest) break
        return result(
          `${where}: unterminated last line (a torn write) in a file that is not the newest`,
        )
      }
      if (line.text === '') return result(`${where}: empty line`)
      const split = splitStoredLine(line.text)
      const r = parseStoredLine(line.text)
      if (!r) return result(`${where}: not a JSON audit record`)
      if (!split)
        return result(
          `${where}: the line does not end with its "hash" member (the line was edited)`,
        )
      if (sha256Hex(split.canonical) !== split.hash || r.hash !== split.hash) {
        return result(
          `${where}: hash mismatch for seq ${r.seq}: the record was changed after it was written`,
        )
      }
      if (last) {
        if (r.seq !== last.seq + 1) {
          return result(
            `${where}: seq ${r.seq} follows seq ${last.seq}, expected ${last.seq + 1}: a record was deleted, inserted or moved`,
          )
        }
        if (r.prev !== last.hash) {
          return result(
            `${where}: prev of seq ${r.seq} is not the hash of seq ${last.seq}: the chain is broken (a record was replaced)`,
          )
        }
      }
      last = { seq: r.seq, hash: r.hash }
      records++
    }
  }
  return result()
}

/**
 * Writes the records matching `q` (all of them unless `q.limit` is set, then the newest
 * `limit`), oldest first, as CSV (header row, RFC 4180, formula-guarded; see csv.ts) or JSONL
 * (the stored lines, byte for byte, so an export stays verifiable). Returns the record count.
 */
export function exportAudit(
  dir: string,
  q: AuditQuery,
  format: 'csv' | 'jsonl',
  write: (chunk: string) => void,
): number {
  let buffered = ''
  const emit = (text: string): void => {
    buffered += text
    if (buffered.length >= CHUNK) {
      write(buffered)
      buffered = ''
    }
  }
  if (format === 'csv') emit(csvHeader())
  const put = (record: AuditRecord, line: string): void => {
    emit(format === 'csv' ? csvRow(record) : `${line}\n`)
  }
  let count = 0
  if (q.limit !== undefined || q.beforeSeq !== undefined) {
    const rows = [...scanNewestFirst(dir, compileQuery(q))].reverse()
    for (const row of rows) put(row.record, row.line)
    count = rows.length
  } else {
    const cq = compileQuery(q)
    for (const f of auditFiles(dir)) {
      for (const line of linesForward(f.path)) {
        if (!line.terminated) continue
        if (cq.lineText !== undefined && !line.text.toLowerCase().includes(cq.lineText)) continue
        const record = parseStoredLine(line.text)
        if (!record || !matches(record, cq)) continue
        put(record, line.text)
        count++
      }
    }
  }
  if (buffered) write(buffered)
  return count
}

/**
 * Calls `onRecord` for each record appended after the call, in order, following the log into
 * new files as it rotates (by day or size), until `signal` aborts. Polls (`intervalMs`, default
 * 250): watching is unreliable across platforms and network drives.
 */
export async function followAudit(
  dir: string,
  onRecord: (record: AuditRecord) => void,
  signal: AbortSignal,
  opts: FollowOptions = {},
): Promise<void> {
  const interval = opts.intervalMs ?? 250
  let current = auditFiles(dir).at(-1)
  let offset = current ? fileSize(current.path) : 0
  let carry = ''

  const readNew = (f: AuditFile): void => {
    const size = fileSize(f.path)
    if (size < offset) {
      // Cut by recovery on open: whatever was pending is gone.
      offset = size
      carry = ''
      return
    }
    if (size === offset) return
    const fd = fs.openSync(f.path, 'r')
    try {
      const buf = Buffer.alloc(size - offset)
      let off = 0
      while (off < buf.length) {
        const n = fs.readSync(fd, buf, off, buf.length - off, offset + off)
        if (n <= 0) break
        off += n
      }
      if (off === 0) return
      offset += off
      // Lines end at "\n" bytes, so a chunk ending at one never splits a UTF-8 sequence.
      const lastNl = buf.lastIndexOf(NL, off - 1)
      if (lastNl === -1) {
        carry += buf.toString('utf8', 0, off)
        return
      }
      const text = carry + buf.toString('utf8', 0, lastNl)
      carry = buf.toString('utf8', lastNl + 1, off)
      for (const line of text.split('\n')) {
        const r = parseStoredLine(line)
        if (r) onRecord(r)
      }
    } finally {
      fs.closeSync(fd)
    }
  }

  while (!signal.aborted) {
    if (current) readNew(current)
    // Rotation: once a newer file exists the current one is final; read its rest, move on.
    for (;;) {
      const files = auditFiles(dir)
      const next = current ? files.find((f) => compareAfter(f, current as AuditFile)) : files[0]
      if (!next) break
      if (current) readNew(current)
      current = next
      offset = 0
      carry = ''
      readNew(current)
    }
    try {
      await sleep(interval, undefined, { signal })
    } catch {
      // Aborted.
    }
  }
}

function compareAfter(f: AuditFile, current: AuditFile): boolean {
  return f.day > current.day || (f.day === current.day && f.index > current.index)
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size
  } catch {
    return 0
  }
}
