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
import * as crypto from 'node:crypto'
import type { AuditRecord } from '../../shared/contract/audit-record'

/** Field order of the canonical line (`hash` is always last and outside the hashed bytes). */
export const CANONICAL_KEYS = [
  'seq',
  'ts',
  'kind',
  'callId',
  'session',
  'client',
  'clientVersion',
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
  const fast = canonicalHead(r)
  if (fast !== undefined) {
    const args = argsJson ?? (JSON.stringify(r.args) as string | undefined)
    const argsMember = args === undefined ? '' : `,"args":${args}`
    return `{${fast}${argsMember},"prev":${JSON.stringify(r.prev)}}`
  }
  return canonicalLineSlow(r, argsJson)
}

// Keys of the head members (all before `args`), each with its `,"key":` prefix.
const HEAD_KEYS = CANONICAL_KEYS.slice(0, CANONICAL_KEYS.indexOf('args'))
const HEAD_PREFIXES = HEAD_KEYS.map((k) => `,"${k}":`)
const HEAD_PREFIXES_NO_COMMA = HEAD_KEYS.map((k) => `"${k}":`)
// Strings JSON.stringify copies as they are: no quote, backslash, control or surrogate unit.
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/**
 * The head members (seq … detail) as `JSON.stringify` writes them inside an object, built from
 * the values directly; undefined when a value is not a plain string, number or boolean (the
 * caller then uses JSON.stringify of the whole object, which also covers every other case).
 */
function canonicalHead(r: UnhashedRecord): string | undefined {
  const rec = r as unknown as Record<string, unknown>
  let out = ''
  for (let i = 0; i < HEAD_KEYS.length; i++) {
    const v = rec[HEAD_KEYS[i] as string]
    let text: string
    switch (typeof v) {
      case 'undefined':
        continue
      case 'string':
        text = NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`
        break
      case 'number':
        text = Number.isFinite(v) ? String(v) : 'null'
        break
      case 'boolean':
        text = v ? 'true' : 'false'
        break
      default:
        return undefined
    }
    out += (out === '' ? HEAD_PREFIXES_NO_COMMA[i] : HEAD_PREFIXES[i]) + text
  }
  return out
}

function canonicalLineSlow(r: UnhashedRecord, argsJson?: string): string {
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
    clientVersion: r.clientVersion,
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
  return oneShotHash
    ? oneShotHash('sha256', text, 'hex')
    : crypto.createHash('sha256').update(text, 'utf8').digest('hex')
}

// `crypto.hash` (Node >= 20.12): the same digest as createHash, without the Hash object.
const oneShotHash = typeof crypto.hash === 'function' ? crypto.hash : undefined

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
