/**
 * CSV for audit export: RFC 4180 (CRLF rows, quoted fields with doubled quotes) with a guard
 * against formula injection — the agent writes tool arguments, and a spreadsheet must never
 * run them. Text cells starting with = + - @ TAB or CR get a leading apostrophe.
 */
import type { AuditRecord } from '../../shared/contract/audit-record'
import { CANONICAL_KEYS } from './canonical'

/** Export columns, in order; `args` is the arguments as JSON. */
export const CSV_COLUMNS = [...CANONICAL_KEYS, 'hash'] as const

const FORMULA_START = /^[=+\-@\t\r]/
const NEEDS_QUOTES = /[",\r\n]/

/** One CSV cell: numbers as they are, text formula-guarded and quoted when needed. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  let text = typeof value === 'string' ? value : JSON.stringify(value)
  if (FORMULA_START.test(text)) text = `'${text}`
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The header row, with CRLF. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`
}

/** One record as a CSV row, with CRLF. */
export function csvRow(r: AuditRecord): string {
  let row = ''
  for (let i = 0; i < CSV_COLUMNS.length; i++) {
    const col = CSV_COLUMNS[i] as (typeof CSV_COLUMNS)[number]
    const value =
      col === 'args' ? (r.args === undefined ? undefined : JSON.stringify(r.args)) : r[col]
    row += i === 0 ? csvCell(value) : `,${csvCell(value)}`
  }
  return `${row}\r\n`
}
