/**
 * Audit file names and their order. A day's first file is `audit-YYYY-MM-DD.jsonl`; when it
 * reaches the size limit the next ones are `audit-YYYY-MM-DD.1.jsonl`, `.2`, … (UTC dates).
 * Sorting by (day, index) is the order records were written in, and the hash chain follows it.
 */
import { join } from 'node:path'

/** One audit file of a directory. */
export interface AuditFile {
  /** File name, e.g. `audit-2026-11-21.1.jsonl`. */
  name: string
  /** Full path. */
  path: string
  /** UTC day, `YYYY-MM-DD`. */
  day: string
  /** 0 for the day's first file, then 1, 2, … */
  index: number
}

const NAME = /^audit-(\d{4}-\d{2}-\d{2})(?:\.(\d{1,6}))?\.jsonl$/
const DAY_MS = 86_400_000

/** The file name for a day and index. */
export function auditFileName(day: string, index: number): string {
  return index === 0 ? `audit-${day}.jsonl` : `audit-${day}.${index}.jsonl`
}

/** Day and index of an audit file name, or null for any other name. */
export function parseAuditFileName(name: string): { day: string; index: number } | null {
  const m = NAME.exec(name)
  if (!m || m[1] === undefined) return null
  const index = m[2] === undefined ? 0 : Number(m[2])
  // `.0` is not a name the writer produces; refusing it keeps (day, index) unique per file.
  if (m[2] !== undefined && index === 0) return null
  return { day: m[1], index }
}

/** Orders audit files as they were written: by day, then index. */
export function compareAuditFiles(a: AuditFile, b: AuditFile): number {
  return a.day < b.day ? -1 : a.day > b.day ? 1 : a.index - b.index
}

/** The audit files of `dir` in write order (oldest first); [] when the directory does not exist. */
export function listAuditFiles(dir: string, readdir: (dir: string) => string[]): AuditFile[] {
  let names: string[]
  try {
    names = readdir(dir)
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return []
    throw err
  }
  const files: AuditFile[] = []
  for (const name of names) {
    const parsed = parseAuditFileName(name)
    if (parsed) files.push({ name, path: join(dir, name), ...parsed })
  }
  return files.sort(compareAuditFiles)
}

/** UTC day (`YYYY-MM-DD`) of an epoch-ms time. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** Epoch ms of the start (00:00 UTC) of a `YYYY-MM-DD` day. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`)
}

/**
 * The oldest day a log keeping `retentionDays` days keeps at time `nowMs`: a file is deleted
 * when its day is more than `retentionDays` days before today (UTC).
 */
export function oldestKeptDay(nowMs: number, retentionDays: number): string {
  return utcDay(dayStartMs(utcDay(nowMs)) - retentionDays * DAY_MS)
}
