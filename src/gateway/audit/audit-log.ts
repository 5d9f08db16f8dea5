/**
 * The audit log writer. `append` is synchronous on purpose: the decision record must be on
 * disk (in the page cache, at least) before the call is forwarded, and a synchronous write of
 * one short line is cheaper than any promise round trip. fsync is the slow part, so by default
 * it is group-committed: one `fdatasync` covers every record written since the last one.
 *
 * On the call path records are staged instead (`stage`): each gets its `seq` and hash at once,
 * and `commit` writes every staged record in one write (and, in strict mode, one sync). A
 * caller that must not go on before its record is written (a call to forward) calls `commit`
 * and then reads its ticket; anything left staged is committed on the next turn of the event
 * loop (setImmediate), and by `close`.
 *
 * Invariants: the in-memory `seq`/`prev` advance only after a line is completely written (and,
 * in strict mode, synced); a failed write is truncated away, so the file never keeps a torn line
 * this process knows about. A crash can still leave one; `AuditLog.open` cuts it off.
 */
import * as nodeFs from 'node:fs'
import { join } from 'node:path'
import type { AuditInput, AuditRecord } from '../../shared/contract/audit-record'
import type { UnhashedRecord } from './canonical'
import { canonicalLine, parseStoredLine, sha256Hex, splitStoredLine, storedLine } from './canonical'
import { AuditOpenError, AuditWriteError, describeCause } from './errors'
import type { AuditFile } from './files'
import { auditFileName, dayStartMs, listAuditFiles, oldestKeptDay, utcDay } from './files'
import {
  capArgsWithJson,
  DEFAULT_ARGS_MAX_BYTES,
  redactExcerpt,
  secretKeyMatcher,
  truncateText,
} from './redact'

/** The file-system calls the log makes; tests pass a wrapper to inject faults. */
export interface AuditFs {
  openSync(path: string, flags: string, mode?: number): number
  closeSync(fd: number): void
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number
  fstatSync(fd: number): { size: number }
  ftruncateSync(fd: number, len: number): void
  fdatasyncSync(fd: number): void
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void
  fsyncSync(fd: number): void
  mkdirSync(path: string, options: { recursive: true; mode: number }): string | undefined
  chmodSync(path: string, mode: number): void
  readdirSync(path: string): string[]
  unlinkSync(path: string): void
}

/** Options of {@link AuditLog.open}. Defaults match the config schema's `settings.audit`. */
export interface AuditLogOptions {
  /** Directory of the audit files; created 0700 if missing. */
  dir: string
  /** 'group' (default): one async fdatasync per burst of records; 'strict': one per record. */
  durability?: 'group' | 'strict'
  /** Files whose UTC day is more than this many days before today are deleted (default 30; 0 or Infinity keeps all). */
  retentionDays?: number
  /** A file that would grow past this starts a new `.N` file (default 64 MiB). */
  maxFileBytes?: number
  /** Max size of `args` as JSON (default 4096). */
  argsMaxBytes?: number
  /** Extra argument keys to redact (case-insensitive, `*` wildcard). */
  redactKeys?: readonly string[]
  /** false: outcome records of answered calls keep no excerpt of the result (default true). */
  resultExcerpts?: boolean
  /** Group commit delay in ms; 0 (default) syncs on the next turn of the event loop. */
  groupCommitMs?: number
  /** Clock, epoch ms (default Date.now). */
  now?: () => number
  /** Receives one line per notable event (recovery, deleted files, sync failures). */
  log?: (msg: string) => void
  /** File system (default node:fs). */
  fs?: AuditFs
}

/** Where a written record is stored, and what readers of it need not compute again. */
export interface WrittenAt {
  file: string
  offset: number
  length: number
}

/** A staged record: its fate once committed. Created by {@link AuditLog.stage}. */
export interface AuditTicket {
  /** The record as it is (or would have been) stored, with its seq and hash. */
  readonly record: AuditRecord
  /** 'staged' until a commit: then 'written', or 'failed' (nothing of it is on disk). */
  readonly state: 'staged' | 'written' | 'failed'
  /** Why it failed (an AuditWriteError), when it did. */
  readonly error?: Error
  /** Where it went, once written. */
  readonly at?: WrittenAt
  /** `JSON.stringify` of its capped args (what the line holds after `"args":`), if it has any. */
  readonly argsJson?: string
  /** `Date.parse(record.ts)` (NaN if not known without parsing). */
  readonly tsMs: number
}

interface Staged {
  ticket: {
    record: AuditRecord
    state: AuditTicket['state']
    error?: Error
    at?: WrittenAt
    argsJson?: string
    tsMs: number
  }
  bytes: Buffer
  now: number
  /** seq and hash of the record before this one: where the chain goes back to if it fails. */
  seqBefore: number
  prevBefore: string
}

/** Max length of `detail` and `reason`, in UTF-16 units. */
export const DETAIL_MAX_CHARS = 1024
/** Max length of identifiers (callId, session, client, server, tool, rule). */
export const ID_MAX_CHARS = 256

const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
const DEFAULT_RETENTION_DAYS = 30
const DAY_MS = 86_400_000
const TAIL_CHUNK = 64 * 1024
/** Year 10000: past it, ISO dates have a sign and six digits; such clocks take the slow path. */
const MAX_FAST_TS_MS = 253_402_300_800_000

interface OpenFile {
  fd: number
  path: string
  day: string
  index: number
  /** Bytes in the file, as far as this process wrote them. */
  size: number
  /** Set when a failed write could not be cut off; retried before the next write. */
  repairTo: number | null
  /** An async fdatasync holds this fd; close it when that finishes. */
  syncing: boolean
  closeWhenSynced: boolean
}

interface FlushWaiter {
  gen: number
  resolve: () => void
  reject: (err: Error) => void
}

/** An open, append-only, hash-chained audit log. Create with {@link AuditLog.open}. */
export class AuditLog {
  /** Directory of the audit files. */
  readonly dir: string
  private readonly fs: AuditFs
  private readonly now: () => number
  private readonly log: (msg: string) => void
  private readonly strict: boolean
  private readonly retentionDays: number
  private readonly maxFileBytes: number
  private readonly argsMaxBytes: number
  private readonly groupCommitMs: number
  private readonly isSecret: (key: string) => boolean
  private readonly resultExcerpts: boolean

  private file: OpenFile | null = null
  private seq: number
  private prev: string
  // Current day window, so most appends skip formatting a date.
  private dayStart = 0
  private dayEnd = 0
  /** The day window of the timestamps (isoTime's own: stamped before the file is chosen). */
  private tsDayStart = 0
  private tsDayEnd = 0
  private tsDayPrefix = ''
  /** The last timestamp formatted, and its epoch ms (NaN: none). */
  private tsMs = NaN
  private tsText = ''
  private closed = false
  /** Set when a group fsync failed; the next append must sync successfully first. */
  private syncFailure: unknown = null

  // Group commit: records written vs. records known synced, as generation counters.
  private writtenGen = 0
  private syncedGen = 0
  private syncScheduled = false
  private syncInFlight = false
  private waiters: FlushWaiter[] = []

  /** Records staged and not yet written, in seq order. */
  private staged: Staged[] = []
  private commitScheduled = false

  /**
   * Told of each commit's written records, in seq order; `inAppend` when the commit was made by
   * `append` (the caller waits for it), false for a staged batch.
   */
  onWritten: ((tickets: readonly AuditTicket[], inAppend: boolean) => void) | undefined = undefined

  private constructor(opts: AuditLogOptions, seq: number, prev: string) {
    this.dir = opts.dir
    this.fs = opts.fs ?? nodeFs
    this.now = opts.now ?? Date.now
    this.log = opts.log ?? (() => {})
    this.strict = opts.durability === 'strict'
    this.retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
    this.argsMaxBytes = opts.argsMaxBytes ?? DEFAULT_ARGS_MAX_BYTES
    this.groupCommitMs = opts.groupCommitMs ?? 0
    this.isSecret = secretKeyMatcher(opts.redactKeys)
    this.resultExcerpts = opts.resultExcerpts ?? true
    this.seq = seq
    this.prev = prev
  }

  /**
   * Opens (creating if needed) the log in `opts.dir`: deletes files past retention, cuts a torn
   * or unparseable last line off the newest file (reported through `opts.log`), and continues
   * `seq` and the hash chain from the last good record. Throws {@link AuditOpenError}.
   */
  static open(opts: AuditLogOptions): AuditLog {
    const fs = opts.fs ?? nodeFs
    const log = opts.log ?? (() => {})
    try {
      const created = fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
      if (created !== undefined) fs.chmodSync(opts.dir, 0o700)
    } catch (err) {
      throw new AuditOpenError(
        `audit log: cannot create directory ${opts.dir} (${describeCause(err)}). Check its permissions or change AIRLOCK_HOME.`,
        err,
      )
    }
    const files = listAuditFiles(opts.dir, (d) => fs.readdirSync(d))
    let seq = 0
    let prev = ''
    let current: OpenFile | null = null
    const newest = files.at(-1)
    if (newest) {
      current = openAppend(fs, newest)
      try {
        recoverTail(fs, current, log)
        // The newest file may hold no record (rotated just before a crash): look further back.
        const last = lastRecordOf(fs, current.fd, current.size) ?? lastRecordBefore(fs, files, log)
        if (last) {
          seq = last.seq
          prev = last.hash
        }
      } catch (err) {
        fs.closeSync(current.fd)
        throw err
      }
    }
    const auditLog = new AuditLog(opts, seq, prev)
    auditLog.file = current
    const now = auditLog.clock()
    auditLog.applyRetention(now)
    if (!auditLog.file) auditLog.file = openAppend(fs, fileFor(opts.dir, utcDay(now), 0))
    return auditLog
  }

  /** Sequence number of the last record written (0 before the first). */
  get lastSeq(): number {
    return this.seq
  }

  /** Hash of the last record written ('' before the first). */
  get lastHash(): string {
    return this.prev
  }

  /** Where the last record went: its file, byte offset and stored length (for indexes). */
  lastWrite: WrittenAt | undefined = undefined

  /** Path of the file the next record goes to (unless the day or size rotates it). */
  get currentFile(): string | undefined {
    return this.file?.path
  }

  /**
   * Builds, redacts, caps, hashes and writes one record (and every record staged before it),
   * synchronously, and returns it as stored. In strict mode the record is also fdatasync'ed
   * before this returns. Throws {@link AuditWriteError} if it could not be written: nothing was
   * recorded, `seq` and the chain did not advance, and the caller must deny the call.
   */
  append(input: AuditInput): AuditRecord {
    const ticket = this.stage(input)
    this.commitStaged(true)
    if (ticket.state !== 'written') throw ticket.error
    return ticket.record
  }

  /**
   * Builds, redacts, caps and hashes one record and queues it for the next {@link commit}: it
   * has its `seq` and its place in the chain at once, and is written with every record staged
   * in the same turn of the event loop (at the latest on the next one). Throws
   * {@link AuditWriteError} when the log is closed.
   */
  stage(input: AuditInput): AuditTicket {
    if (this.closed) {
      throw new AuditWriteError(this.dir, 'append', new Error('the audit log is closed'))
    }
    const now = this.clock()
    const capped =
      input.args === undefined
        ? undefined
        : capArgsWithJson(input.args, this.isSecret, { maxBytes: this.argsMaxBytes })
    const seq = this.seq + 1
    const ts = this.isoTime(now)
    // Built once, in CANONICAL_KEYS order with `undefined` members left out: it is both what
    // canonicalLine reads and the record returned (the same keys as JSON.parse of the line).
    const record: Record<string, unknown> = { seq, ts }
    put(record, 'kind', input.kind)
    put(record, 'callId', capId(input.callId))
    put(record, 'session', capId(input.session))
    put(record, 'client', capId(input.client))
    put(record, 'clientVersion', capId(input.clientVersion))
    put(record, 'server', capId(input.server))
    put(record, 'tool', capId(input.tool))
    put(record, 'decision', input.decision)
    put(record, 'decidedBy', input.decidedBy)
    put(record, 'rule', capId(input.rule))
    put(record, 'reason', capText(input.reason))
    put(record, 'outcome', input.outcome)
    put(record, 'latencyMs', finite(input.latencyMs))
    put(record, 'approvalMs', finite(input.approvalMs))
    put(record, 'detail', this.detailOf(input))
    put(record, 'args', capped?.value)
    record['prev'] = this.prev
    const canonical = canonicalLine(record as unknown as UnhashedRecord, capped?.json)
    const hash = sha256Hex(canonical)
    const bytes = Buffer.from(storedLine(canonical, hash), 'utf8')
    record['hash'] = hash

    const staged: Staged = {
      ticket: {
        record: record as unknown as AuditRecord,
        state: 'staged',
        argsJson: capped?.json,
        tsMs: this.tsMs,
      },
      bytes,
      now,
      seqBefore: this.seq,
      prevBefore: this.prev,
    }
    this.seq = seq
    this.prev = hash
    this.staged.push(staged)
    if (!this.commitScheduled) {
      this.commitScheduled = true
      setImmediate(() => {
        this.commitScheduled = false
        this.commitStaged(false)
      })
    }
    return staged.ticket
  }

  /**
   * Writes every staged record, in one write per file (strict mode: and one fdatasync), and
   * marks their tickets. Never throws: a record that could not be written has a 'failed'
   * ticket, and so has every record staged after it (the chain goes back to the last record
   * written, as if they had never been staged).
   */
  commit(): void {
    this.commitStaged(false)
  }

  private commitStaged(inAppend: boolean): void {
    if (this.staged.length === 0) return
    const items = this.staged
    this.staged = []
    let done = 0
    try {
      if (this.closed)
        throw new AuditWriteError(this.dir, 'append', new Error('the audit log is closed'))
      this.repair()
      // Consecutive records bound for the same file go out in one write.
      let run: Staged[] = []
      let runFile: OpenFile | null = null
      let runBytes = 0
      const writeRun = (): void => {
        if (run.length === 0 || !runFile) return
        this.write(runFile, run, runBytes)
        done += run.length
        run = []
        runBytes = 0
      }
      for (const item of items) {
        // A new day rotates the file (and closes the old one): what is bound for it goes first.
        if (!(item.now >= this.dayStart && item.now < this.dayEnd)) writeRun()
        let file = this.fileFor(item.now)
        if (file !== runFile) writeRun()
        if (
          file.size + runBytes > 0 &&
          file.size + runBytes + item.bytes.length > this.maxFileBytes
        ) {
          writeRun()
          file = this.rotate(fileFor(this.dir, file.day, file.index + 1))
        }
        runFile = file
        run.push(item)
        runBytes += item.bytes.length
      }
      writeRun()
    } catch (err) {
      const failed = items[done] as Staged
      this.seq = failed.seqBefore
      this.prev = failed.prevBefore
      const error =
        err instanceof AuditWriteError ? err : new AuditWriteError(this.dir, 'write', err)
      for (let i = done; i < items.length; i++) {
        const t = (items[i] as Staged).ticket
        t.state = 'failed'
        t.error = error
      }
      this.log(
        `${error.message} (${items.length - done} record${items.length - done === 1 ? '' : 's'} not written, from seq ${failed.ticket.record.seq})`,
      )
    }
    if (done === 0) return
    const last = (items[done - 1] as Staged).ticket
    this.lastArgsJson = last.argsJson
    this.lastTsMs = last.tsMs
    this.writtenGen++
    if (this.strict) this.syncedGen = this.writtenGen
    else this.scheduleSync()
    const written = done === items.length ? items : items.slice(0, done)
    const tickets = written.map((i) => i.ticket)
    this.onWritten?.(tickets, inAppend)
  }

  /**
   * The `detail` to store: secret-looking values redacted (it may be a server's result or error
   * text: a tool that prints the environment must not put its secrets here), then capped. No
   * result excerpt at all when `resultExcerpts` is off.
   */
  private detailOf(input: AuditInput): string | undefined {
    if (input.detail === undefined) return undefined
    const isResult =
      input.kind === 'outcome' && (input.outcome === 'ok' || input.outcome === 'is_error')
    if (isResult && !this.resultExcerpts) return undefined
    return capText(redactExcerpt(input.detail, this.isSecret))
  }

  /**
   * `JSON.stringify(args)` of the last record written (undefined when it has none): what the
   * line holds after `"args":`, so readers of the record need not serialize the args again.
   */
  lastArgsJson: string | undefined = undefined

  /** `Date.parse(ts)` of the last record written (NaN if not known without parsing). */
  lastTsMs = NaN

  /** `new Date(now).toISOString()`, from the current day's prefix when `now` is inside it. */
  private isoTime(now: number): string {
    if (!(now >= this.tsDayStart && now < this.tsDayEnd) && now >= 0 && now < MAX_FAST_TS_MS) {
      // A record is stamped when it is staged, before its file is chosen: its own day window.
      const day = utcDay(now)
      this.tsDayStart = dayStartMs(day)
      this.tsDayEnd = this.tsDayStart + DAY_MS
      this.tsDayPrefix = day
      this.tsMs = NaN
    }
    if (now >= this.tsDayStart && now < this.tsDayEnd) {
      // new Date(now) drops the fraction (toward zero, and now >= 0 here).
      const ms = Math.floor(now)
      if (ms === this.tsMs) return this.tsText
      const t = ms - this.tsDayStart
      const h = Math.floor(t / 3_600_000)
      const m = Math.floor(t / 60_000) % 60
      const s = Math.floor(t / 1000) % 60
      const f = t % 1000
      const text = `${this.tsDayPrefix}T${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${s < 10 ? '0' : ''}${s}.${f < 10 ? '00' : f < 100 ? '0' : ''}${f}Z`
      this.tsMs = ms
      this.tsText = text
      return text
    }
    this.tsMs = NaN
    return new Date(now).toISOString()
  }

  /** Resolves once every record appended so far is fdatasync'ed; rejects if a sync failed. */
  flush(): Promise<void> {
    this.commitStaged(false)
    if (this.syncedGen >= this.writtenGen) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ gen: this.writtenGen, resolve, reject })
      this.scheduleSync()
    })
  }

  /** Writes what is staged, flushes, then closes the file. Further appends throw. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    try {
      await this.flush()
    } finally {
      this.closed = true
      const file = this.file
      this.file = null
      if (file) this.release(file)
    }
  }

  private clock(): number {
    const t = this.now()
    return Number.isFinite(t) ? t : Date.now()
  }

  /** The file a record at `now` goes to: rotates on a new UTC day. */
  private fileFor(now: number): OpenFile {
    const file = this.file
    if (file && now >= this.dayStart && now < this.dayEnd) return file
    const day = utcDay(now)
    let next = file
    // Never go back to an earlier day's file (clock set back): file order must stay write order.
    if (!file || day > file.day) {
      next = this.rotate(fileFor(this.dir, day, 0))
      this.applyRetention(now)
    }
    // Only now: a failed rotation must be retried by the next append.
    this.dayStart = dayStartMs(day)
    this.dayEnd = this.dayStart + DAY_MS
    return next as OpenFile
  }

  /** Before a write: cuts off what an earlier failed write left, re-syncs after a failed sync. */
  private repair(): void {
    const file = this.file
    if (!file) return
    if (file.repairTo !== null) {
      try {
        this.fs.ftruncateSync(file.fd, file.repairTo)
      } catch (err) {
        throw new AuditWriteError(file.path, 'repair of an earlier failed write', err)
      }
      file.size = file.repairTo
      file.repairTo = null
    }
    if (this.syncFailure !== null) {
      try {
        this.fs.fdatasyncSync(file.fd)
      } catch (err) {
        throw new AuditWriteError(file.path, 'sync', err)
      }
      this.syncFailure = null
      this.syncedGen = this.writtenGen
      this.resolveWaiters()
    }
  }

  /** Writes a run of staged records to `file` in one write; marks them written. */
  private write(file: OpenFile, run: Staged[], total: number): void {
    const bytes =
      run.length === 1
        ? (run[0] as Staged).bytes
        : Buffer.concat(
            run.map((r) => r.bytes),
            total,
          )
    const before = file.size
    let off = 0
    try {
      while (off < bytes.length) {
        const n = this.fs.writeSync(file.fd, bytes, off, bytes.length - off)
        if (n <= 0) throw new Error(`write returned ${n}`)
        off += n
      }
      if (this.strict) this.fs.fdatasyncSync(file.fd)
    } catch (err) {
      if (off > 0) this.truncateBack(file, before)
      throw new AuditWriteError(
        file.path,
        this.strict && off === bytes.length ? 'sync' : 'write',
        err,
      )
    }
    file.size = before + bytes.length
    let at = before
    for (const r of run) {
      r.ticket.state = 'written'
      r.ticket.at = { file: file.path, offset: at, length: r.bytes.length }
      at += r.bytes.length
    }
    this.lastWrite = (run[run.length - 1] as Staged).ticket.at
  }

  private truncateBack(file: OpenFile, size: number): void {
    try {
      this.fs.ftruncateSync(file.fd, size)
    } catch (err) {
      file.repairTo = size
      this.log(
        `audit log ${file.path}: could not cut off a partly written record (${describeCause(err)}); will retry before the next write`,
      )
    }
  }

  /**
   * Switches to `next`: syncs the current file (so no record is left unsynced behind us), then
   * opens the next one. On failure nothing changes and the error is an AuditWriteError.
   */
  private rotate(next: AuditFile): OpenFile {
    const old = this.file
    if (old && !this.strict && this.syncedGen < this.writtenGen) {
      try {
        this.fs.fdatasyncSync(old.fd)
      } catch (err) {
        throw new AuditWriteError(old.path, 'sync', err)
      }
      this.syncedGen = this.writtenGen
      this.syncFailure = null
      this.resolveWaiters()
    }
    let opened: OpenFile
    try {
      opened = openAppend(this.fs, next)
    } catch (err) {
      throw new AuditWriteError(next.path, 'open', err instanceof AuditOpenError ? err.cause : err)
    }
    this.syncDir()
    this.file = opened
    if (old) this.release(old)
    return opened
  }

  /** A new file's directory entry must be durable too. Best effort: Windows cannot open dirs. */
  private syncDir(): void {
    try {
      const fd = this.fs.openSync(this.dir, 'r')
      try {
        this.fs.fsyncSync(fd)
      } finally {
        this.fs.closeSync(fd)
      }
    } catch {
      // Not fatal: the record itself is synced; only the new name could be lost in a power cut.
    }
  }

  private release(file: OpenFile): void {
    if (file.syncing) {
      file.closeWhenSynced = true
      return
    }
    try {
      this.fs.closeSync(file.fd)
    } catch (err) {
      this.log(`audit log ${file.path}: close failed (${describeCause(err)})`)
    }
  }

  private applyRetention(now: number): void {
    if (!(this.retentionDays > 0) || !Number.isFinite(this.retentionDays)) return
    const keepFrom = oldestKeptDay(now, this.retentionDays)
    let files: AuditFile[]
    try {
      files = listAuditFiles(this.dir, (d) => this.fs.readdirSync(d))
    } catch (err) {
      this.log(`audit log ${this.dir}: cannot list files for retention (${describeCause(err)})`)
      return
    }
    for (const f of files) {
      if (f.day >= keepFrom) break
      if (this.file && f.path === this.file.path) {
        // The file we continue from is past retention: start a new one so it can go.
        this.release(this.file)
        this.file = null
      }
      try {
        this.fs.unlinkSync(f.path)
        this.log(`audit log: deleted ${f.name} (older than ${this.retentionDays} days)`)
      } catch (err) {
        this.log(`audit log: could not delete ${f.path} (${describeCause(err)})`)
      }
    }
  }

  private scheduleSync(): void {
    if (this.syncScheduled || this.syncInFlight) return
    this.syncScheduled = true
    const run = (): void => this.runSync()
    if (this.groupCommitMs > 0) setTimeout(run, this.groupCommitMs)
    else setImmediate(run)
  }

  private runSync(): void {
    this.syncScheduled = false
    const file = this.file
    if (this.syncedGen >= this.writtenGen) {
      this.resolveWaiters()
      return
    }
    if (!file) {
      this.rejectWaiters(
        new AuditWriteError(this.dir, 'sync', new Error('the audit log is closed')),
      )
      return
    }
    const target = this.writtenGen
    this.syncInFlight = true
    file.syncing = true
    this.fs.fdatasync(file.fd, (err) => {
      this.syncInFlight = false
      file.syncing = false
      if (file.closeWhenSynced) this.release(file)
      if (err) {
        this.syncFailure = err
        const failure = new AuditWriteError(file.path, 'sync', err)
        this.log(failure.message)
        this.rejectWaiters(failure)
        return
      }
      if (target > this.syncedGen) this.syncedGen = target
      this.resolveWaiters()
      if (this.syncedGen < this.writtenGen) this.scheduleSync()
    })
  }

  private rejectWaiters(err: Error): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err)
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return
    const still: FlushWaiter[] = []
    for (const w of this.waiters) {
      if (w.gen <= this.syncedGen) w.resolve()
      else still.push(w)
    }
    this.waiters = still
    if (still.length > 0) this.scheduleSync()
  }
}

function fileFor(dir: string, day: string, index: number): AuditFile {
  const name = auditFileName(day, index)
  return { name, path: join(dir, name), day, index }
}

/** Opens a file for reading and appending (created 0600). Throws AuditOpenError. */
function openAppend(fs: AuditFs, f: AuditFile): OpenFile {
  let fd: number
  try {
    fd = fs.openSync(f.path, 'a+', 0o600)
  } catch (err) {
    throw new AuditOpenError(
      `audit log: cannot open ${f.path} (${describeCause(err)}). Check the permissions of ${f.path} or change AIRLOCK_HOME.`,
      err,
    )
  }
  try {
    const size = fs.fstatSync(fd).size
    return {
      fd,
      path: f.path,
      day: f.day,
      index: f.index,
      size,
      repairTo: null,
      syncing: false,
      closeWhenSynced: false,
    }
  } catch (err) {
    fs.closeSync(fd)
    throw new AuditOpenError(`audit log: cannot stat ${f.path} (${describeCause(err)})`, err)
  }
}

/** Reads bytes [start, end) of an fd. */
function readRange(fs: AuditFs, fd: number, start: number, end: number): Buffer {
  const buf = Buffer.alloc(end - start)
  let off = 0
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, buf.length - off, start + off)
    if (n <= 0) break
    off += n
  }
  return buf.subarray(0, off)
}

/**
 * Finds the last complete line of the first `size` bytes of an fd: its start offset and text,
 * or null if there is no complete line. Reads backwards in chunks.
 */
function lastLine(fs: AuditFs, fd: number, size: number): { start: number; text: string } | null {
  if (size === 0) return null
  // The last line ends at size - 1 (a "\n"); find the "\n" before it.
  let pos = size - 1
  const parts: Buffer[] = []
  while (pos > 0) {
    const from = Math.max(0, pos - TAIL_CHUNK)
    const chunk = readRange(fs, fd, from, pos)
    const nl = chunk.lastIndexOf(0x0a)
    if (nl !== -1) {
      parts.unshift(chunk.subarray(nl + 1))
      const start = from + nl + 1
      return { start, text: Buffer.concat(parts).toString('utf8') }
    }
    parts.unshift(chunk)
    pos = from
  }
  return { start: 0, text: Buffer.concat(parts).toString('utf8') }
}

/** Offset just past the last "\n" in the first `size` bytes (0 if none). */
function endOfLastNewline(fs: AuditFs, fd: number, size: number): number {
  let pos = size
  while (pos > 0) {
    const from = Math.max(0, pos - TAIL_CHUNK)
    const chunk = readRange(fs, fd, from, pos)
    const nl = chunk.lastIndexOf(0x0a)
    if (nl !== -1) return from + nl + 1
    pos = from
  }
  return 0
}

/**
 * Cuts an unterminated tail (a record torn by a crash) and then an unparseable last line off
 * the newest file, reporting each through `log`. A second bad line in a row means the file is
 * damaged beyond a torn write: that is an AuditOpenError, and nothing more is cut.
 */
function recoverTail(fs: AuditFs, file: OpenFile, log: (msg: string) => void): void {
  const cut = (to: number, why: string): void => {
    try {
      fs.ftruncateSync(file.fd, to)
    } catch (err) {
      throw new AuditOpenError(
        `audit log ${file.path}: cannot cut off ${why} (${describeCause(err)}). Check the file's permissions.`,
        err,
      )
    }
    log(
      `audit log ${file.path}: recovered: cut off ${why} (${file.size - to} bytes at offset ${to})`,
    )
    file.size = to
  }
  if (file.size === 0) return
  const tail = readRange(fs, file.fd, file.size - 1, file.size)
  if (tail[0] !== 0x0a) cut(endOfLastNewline(fs, file.fd, file.size), 'a torn last line')
  const last = lastLine(fs, file.fd, file.size)
  if (last && !isGoodLine(last.text)) {
    // Look before cutting: a torn write damages one line, anything more is not ours to erase.
    const before = lastLine(fs, file.fd, last.start)
    if (before && !isGoodLine(before.text)) {
      throw new AuditOpenError(
        `audit log ${file.path}: the file is damaged (more than its last line is unreadable). Run \`airlock audit verify\`, move the file aside, and start again.`,
      )
    }
    cut(last.start, 'an unparseable last line')
  }
}

function isGoodLine(text: string): boolean {
  return splitStoredLine(text) !== null && parseStoredLine(text) !== null
}

function lastRecordOf(fs: AuditFs, fd: number, size: number): AuditRecord | null {
  const last = lastLine(fs, fd, size)
  return last ? parseStoredLine(last.text) : null
}

/** The last record of the newest older file that has one (read only; older files are not cut). */
function lastRecordBefore(
  fs: AuditFs,
  files: AuditFile[],
  log: (msg: string) => void,
): AuditRecord | null {
  for (let i = files.length - 2; i >= 0; i--) {
    const f = files[i]
    if (!f) continue
    let fd: number
    try {
      fd = fs.openSync(f.path, 'r')
    } catch (err) {
      log(`audit log: cannot read ${f.path} (${describeCause(err)})`)
      continue
    }
    try {
      const size = fs.fstatSync(fd).size
      const record = lastRecordOf(fs, fd, endOfLastNewline(fs, fd, size))
      if (record) return record
      if (size > 0) log(`audit log ${f.path}: last line is unreadable; the chain restarts after it`)
    } finally {
      fs.closeSync(fd)
    }
  }
  return null
}

function capId(value: string): string
function capId(value: string | undefined): string | undefined
function capId(value: string | undefined): string | undefined {
  return typeof value === 'string' ? truncateText(value, ID_MAX_CHARS) : value
}

function capText(value: string | undefined): string | undefined {
  return typeof value === 'string' ? truncateText(value, DETAIL_MAX_CHARS) : value
}

function put(record: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) record[key] = value
}

function finite(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}
