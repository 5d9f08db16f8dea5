/**
 * The canonical line and the hash chain.
 *
 * Canonical line of a record: `JSON.stringify` of an object holding the record's fields in the
 * order of {@link CANONICAL_KEYS}, without `hash`, fields that are `undefined` left out, no
 * whitespace. `hash` is the lowercase hex SHA-256 of the canonical line's UTF-8 bytes. The stored
 * line is the canonical line with `,"hash":"<hex>"` inserted before its final `}`, then "\n":
 *
 *   {"seq":7,"ts":"…",…,"prev":"<hash of record 6>","hash":"<sha256 of the line without this member>"}
 *
 * So anyone can verify a line byte for byte without knowing the key order: drop the trailing
 * `,"hash":"<64 hex>"` member, hash what remains, compare. `prev` is the previous record's
 * `hash` ('' for the first record ever written), which chains every record to all before it.
 */
import { createHash } from 'node:crypto'
import type { AuditRecord } from '../../shared/audit-record'

/** Field order of the canonical line (`hash` is always last and outside the hashed bytes). */
export const CANONICAL_KEYS = [
  'seq',
  'ts',
  'kind',
  'callId',
  'session',
  'client',
  'server',
  'tool',
  'decision',
  'decidedBy',
  'rule',
  'reason',
  'outcome',
  'latencyMs',
  'approvalMs',
  'detail',
  'args',
  'prev',
] as const

/** A record before its hash is known. */
export type UnhashedRecord = Omit<AuditRecord, 'hash'>

/**
 * The canonical line (no trailing newline) of a record, per the header of this file.
 * `argsJson`, when given, must be `JSON.stringify(r.args)`: the writer has it already.
 */
export function canonicalLine(r: UnhashedRecord, argsJson?: string): string {
  // An object literal keeps insertion order; JSON.stringify drops undefined members. `args`
  // and `prev` are appended by hand so args are not serialized twice; the result is exactly
  // JSON.stringify of the whole record in CANONICAL_KEYS order.
  const head = JSON.stringify({
    seq: r.seq,
    ts: r.ts,
    kind: r.kind,
    callId: r.callId,
    session: r.session,
    client: r.client,
    server: r.server,
    tool: r.tool,
    decision: r.decision,
    decidedBy: r.decidedBy,
    rule: r.rule,
    reason: r.reason,
    outcome: r.outcome,
    latencyMs: r.latencyMs,
    approvalMs: r.approvalMs,
    detail: r.detail,
  })
  const args = argsJson ?? (JSON.stringify(r.args) as string | undefined)
  const argsMember = args === undefined ? '' : `,"args":${args}`
  return `${head.slice(0, -1)}${argsMember},"prev":${JSON.stringify(r.prev)}}`
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** The stored line (with "\n") for a canonical line and its hash. */
export function storedLine(canonical: string, hash: string): string {
  return `${canonical.slice(0, -1)},"hash":"${hash}"}\n`
}

const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/
const HASH_SUFFIX_LENGTH = ',"hash":"'.length + 64 + '"}'.length

/**
 * Splits a stored line (without "\n") into its canonical line and recorded hash, or null when
 * the line does not end with the hash member.
 */
export function splitStoredLine(line: string): { canonical: string; hash: string } | null {
  const m = HASH_SUFFIX.exec(line)
  if (!m || m[1] === undefined) return null
  return { canonical: `${line.slice(0, line.length - HASH_SUFFIX_LENGTH)}}`, hash: m[1] }
}

/** Parses a stored line into a record, or null when it is not JSON with the record's basic shape. */
export function parseStoredLine(line: string): AuditRecord | null {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const r = value as Partial<AuditRecord>
  if (
    typeof r.seq !== 'number' ||
    !Number.isSafeInteger(r.seq) ||
    typeof r.ts !== 'string' ||
    typeof r.prev !== 'string' ||
    typeof r.hash !== 'string' ||
    typeof r.kind !== 'string'
  ) {
    return null
  }
  return value as AuditRecord
}
