/**
 * The normalized policy model and the engine's decision type. The parser (parse.ts) turns a
 * PolicyLayer/Intercept file (YAML or JSON) into `Policy`; the engine (engine.ts) is a pure
 * function of (policy, risk floor, call, counters, clock) that returns a `Decision`.
 */
import type { ToolClass } from '../risk'

/** Default posture for tools that no rule decides. */
export type Posture = 'allow' | 'deny' | 'require_approval'

/** The eleven condition operators. */
export type ConditionOp =
  'eq' | 'neq' | 'in' | 'not_in' | 'lt' | 'lte' | 'gt' | 'gte' | 'regex' | 'contains' | 'exists'

/**
 * One condition: `path` is `args.<dotted>`, `state.<counter>`, or (Airlock's addition)
 * `client.name` / `client.version`, the calling client's `clientInfo` as the audit records it.
 */
export interface Condition {
  path: string
  op: ConditionOp
  value?: unknown
}

/** A rate limit, calendar-aligned (UTC minute/hour/day) or sliding `{max, window}` seconds. */
export type RateLimit =
  | { kind: 'calendar'; max: number; unit: 'minute' | 'hour' | 'day'; scope: 'session' | 'global' }
  | { kind: 'sliding'; max: number; windowSeconds: number; scope: 'session' | 'global' }

/** A named state counter a rule maintains (Intercept `state`). */
export interface StateSpec {
  counter: string
  window: 'minute' | 'hour' | 'day'
  /** Fixed increment per call (default 1). */
  increment: number
  /** When set, the increment is read from this `args.*` path (a number). */
  incrementFrom?: string
}

/** A rule. `action: 'evaluate'` means "conditions/limits decide"; the others are explicit. */
export interface Rule {
  name: string
  action: 'evaluate' | 'deny' | 'allow' | 'require_approval'
  conditions: Condition[]
  onDeny?: string
  rateLimit?: RateLimit
  state?: StateSpec
  approvalTimeoutSeconds?: number
  /**
   * Airlock's addition: the rule applies only to calls from clients of these names (`clientInfo.name`,
   * exactly); other clients' calls skip it. Absent = every client.
   */
  clients?: string[]
}

/** Rules for one tool name or glob (`"*"` is the wildcard bucket). */
export interface ToolPolicy {
  pattern: string
  rules: Rule[]
}

/** A parsed, validated policy. */
export interface Policy {
  version: '1'
  description?: string
  default: Posture
  hide: string[]
  tools: ToolPolicy[]
  /** Policy-wide approval timeout in seconds, when given. */
  approvalTimeoutSeconds?: number
  /** What happens to requests the server sends the client (`server_requests`); absent: allow. */
  serverRequests?: ServerRequestPolicy
}

/** The server→client requests a policy decides, by their `server_requests` key. */
export const SERVER_REQUEST_KINDS = ['sampling', 'elicitation', 'roots'] as const
export type ServerRequestKind = (typeof SERVER_REQUEST_KINDS)[number]

/** The JSON-RPC method of each kind of server→client request. */
export const SERVER_REQUEST_METHODS: Readonly<Record<ServerRequestKind, string>> = {
  sampling: 'sampling/createMessage',
  elicitation: 'elicitation/create',
  roots: 'roots/list',
}

/** `server_requests`: each kind's posture (a kind left out is allowed). */
export type ServerRequestPolicy = Partial<Record<ServerRequestKind, Posture>>

/**
 * The risk floor (Airlock's addition): tools of this class or above need a person's approval
 * unless the policy decides them explicitly. `off` leaves every tool to the policy.
 */
export type RiskFloor = 'critical' | 'high' | 'off'

/** The call the engine decides on. */
export interface CallInput {
  tool: string
  args: Record<string, unknown>
  sessionId: string
  /**
   * The tool's class as the gateway knows it (from the server's tools/list). The engine never
   * takes it lower than the tool's name alone says; absent, the name decides.
   */
  risk?: ToolClass
  /** The calling client's `clientInfo` (name and version as the audit records them), when known. */
  client?: ClientInfo
}

/** Who is calling: the client's `clientInfo` from its `initialize`. */
export interface ClientInfo {
  name?: string
  version?: string
}

/**
 * A counter increment the session reserves when it acts on a decision: committed when the call
 * succeeds, rolled back when it fails. `key` already includes the scope (session or global).
 */
export type Reservation =
  | { kind: 'calendar'; key: string; windowStart: number; windowEnd: number; amount: number }
  | { kind: 'sliding'; key: string; at: number; windowMs: number; amount: number }

/** The engine's verdict: a tagged union, switched on exhaustively by the session. */
export type Decision =
  | { kind: 'allow'; rule?: string; reservations: Reservation[] }
  | { kind: 'deny'; reason: string; rule?: string }
  | { kind: 'hidden' }
  | { kind: 'rate_limited'; reason: string; rule?: string; retryAfterMs?: number }
  | {
      kind: 'needs_approval'
      rule?: string
      reason?: string
      timeoutMs: number
      reservations: Reservation[]
      /** Set when the risk floor asked, not the policy: the tool's class. */
      floor?: ToolClass
    }

/** Read access to counters, as the engine sees them (pure: no mutation). */
export interface CounterView {
  /** Committed + reserved amount for a calendar window counter. */
  calendar(key: string, windowStart: number): number
  /** Committed + reserved amount for a sliding counter within (now - windowMs, now]. */
  sliding(key: string, now: number, windowMs: number): number
  /**
   * Optional: the earliest time at which the sliding amount drops to `limit` or below as entries
   * age out (undefined when it already is). The engine uses it for `retryAfterMs`.
   */
  slidingFreeAt?(key: string, now: number, windowMs: number, limit: number): number | undefined
}

/** One problem found in a policy file, for inline display (line/column are 1-based when known). */
export interface PolicyIssue {
  file: string
  /** Path inside the document, e.g. `tools.send_email.rules[0].rate_limit`; '' for the whole file. */
  path: string
  /** What was expected there, e.g. `"N/minute|hour|day" or {max, window}`. */
  expected: string
  /** The full message: `<file>: <path>: expected <expected>`. */
  message: string
  line?: number
  column?: number
}
