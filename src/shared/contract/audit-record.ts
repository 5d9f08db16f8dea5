/**
 * The audit record: one JSON object per line of the audit log. A tool call produces one
 * `call` record (the decision, written before anything is forwarded) and, when it was
 * forwarded, one `outcome` record (same `callId`) when the server answers or the session ends.
 */

/** Decision kinds as recorded, in a fixed order (the audit index stores their position). */
export const AUDIT_DECISIONS = [
  'allow',
  'deny',
  'hidden',
  'rate_limited',
  'approved',
  'denied_by_user',
  'timeout',
  'cancelled',
  'paused',
  'error',
] as const

/** A decision kind as recorded. */
export type AuditDecision = (typeof AUDIT_DECISIONS)[number]

/**
 * The "blocked" group: calls the server never saw because Airlock or a person said no
 * (denied by policy, hidden, rate-limited, denied by a person, timed out, paused).
 */
export const BLOCKED_DECISIONS: readonly AuditDecision[] = [
  'deny',
  'hidden',
  'rate_limited',
  'denied_by_user',
  'timeout',
  'paused',
]

/** Named groups of decisions a filter may use besides single decisions. */
export const DECISION_GROUPS = { blocked: BLOCKED_DECISIONS } as const

/** A decision or a group of decisions, as a filter names it. */
export type DecisionPick = AuditDecision | keyof typeof DECISION_GROUPS

/** A decision filter: one decision or group, or several (a call matches any of them). */
export type DecisionFilter = DecisionPick | readonly DecisionPick[]

/** The decisions a filter admits (undefined: any decision). An empty list admits none. */
export function decisionSet(f: DecisionFilter | undefined): ReadonlySet<AuditDecision> | undefined {
  if (f === undefined) return undefined
  const out = new Set<AuditDecision>()
  for (const pick of typeof f === 'string' ? [f] : f) {
    if (pick === 'blocked') for (const d of DECISION_GROUPS.blocked) out.add(d)
    else out.add(pick)
  }
  return out
}

/** Whether a recorded decision passes a decision filter (undefined filter: yes). */
export function decisionMatches(
  f: DecisionFilter | undefined,
  d: AuditDecision | undefined,
): boolean {
  if (f === undefined) return true
  if (d === undefined) return false
  if (typeof f === 'string') return f === d || (f === 'blocked' && BLOCKED_DECISIONS.includes(d))
  return decisionSet(f)!.has(d)
}

/** Who made the decision. */
export type DecidedBy = 'policy' | 'user' | 'grant' | 'timeout' | 'gateway'

/** Outcome of a forwarded call. */
export type AuditOutcome = 'ok' | 'is_error' | 'error' | 'server_exit' | 'cancelled'

/** Fields the gateway supplies; the log adds seq, ts, prev and hash. */
export interface AuditInput {
  /**
   * `call`: a tool call's decision; `outcome`: how the server answered it; `server_request`: a
   * request the server sent the client (sampling, elicitation, roots; `tool` holds its method,
   * `args` its params) and its decision.
   */
  kind: 'call' | 'outcome' | 'server_request'
  callId: string
  session: string
  client?: string
  /** The client's `clientInfo.version`, when it gave one (policy conditions may read it). */
  clientVersion?: string
  server: string
  tool: string
  /** Call arguments: redacted and size-capped by the writer. Only on `call` records. */
  args?: unknown
  decision?: AuditDecision
  decidedBy?: DecidedBy
  rule?: string
  reason?: string
  outcome?: AuditOutcome
  /** JSON-RPC error message or a result excerpt, capped by the writer. */
  detail?: string
  latencyMs?: number
  /** Time spent waiting for a person, for approved calls. */
  approvalMs?: number
}

/** A stored record. `prev` is the hash of the previous record ('' for the very first). */
export interface AuditRecord extends AuditInput {
  seq: number
  ts: string
  prev: string
  hash: string
}

/** Query filter; all fields optional, ANDed. Results are newest first. */
export interface AuditQuery {
  server?: string
  tool?: string
  /** One decision, the "blocked" group, or several (any of them). */
  decision?: DecisionFilter
  client?: string
  /** ISO time or epoch ms: records at or after. */
  since?: string | number
  until?: string | number
  /** Case-insensitive substring over tool, server, client, reason, detail, rule, callId, session, args. */
  text?: string
  kind?: 'call' | 'outcome' | 'server_request'
  limit?: number
  /** Return records with seq lower than this (paging, newest first). */
  beforeSeq?: number
}
