/**
 * Replay: what a draft policy would have decided for calls already recorded in the audit log,
 * next to what was decided then. Pure: the caller reads the records (oldest first) and says how
 * each tool was classified; counters (rate limits, `state`) are rebuilt from the replayed calls
 * themselves, in time order, so a limit in the draft bites where it would have.
 *
 * What was decided is read from the call record: `allow`; `deny` by the policy; `hidden`;
 * `rate_limited`; and "require_approval" for every call a person was asked about (approved,
 * denied by the user, timed out, cancelled while waiting, or denied because no approver was
 * connected). Records that are no policy decision (paused, malformed requests refused, a policy
 * that could not be loaded, a pinned tool that changed) are left out.
 */
import type { AuditRecord } from '../contract/audit-record'
import type { ToolClass } from '../risk'
import { CounterStore } from './counters'
import { decide } from './engine'
import type { Decision, Policy, RiskFloor } from './types'

/** A verdict as replay compares them. */
export type Verdict = 'allow' | 'deny' | 'hidden' | 'rate_limited' | 'require_approval'

/** One example call of a change. */
export interface ReplayExample {
  seq: number
  ts: string
  client?: string
  /** The recorded (redacted, capped) arguments, as JSON text cut to 200 characters. */
  args: string
  /** Why the draft decides as it would (its reason or rule), when it says. */
  reason?: string
}

/** One kind of change of one tool: `was` → `wouldBe`, how often, and a few examples. */
export interface ReplayChange {
  was: Verdict
  wouldBe: Verdict
  count: number
  examples: ReplayExample[]
}

/** What replay found for one tool of one server. */
export interface ToolReplay {
  server: string
  tool: string
  /** Replayed calls of this tool. */
  calls: number
  /** Calls the draft decides as before. */
  unchanged: number
  /** Calls decided differently, by (was, would be), most frequent first. */
  changes: ReplayChange[]
}

/** The whole replay: totals and per tool (tools with changes first, then by name). */
export interface ReplayReport {
  /** Call records replayed. */
  calls: number
  /** Of which the draft decides differently. */
  changed: number
  /** Call records read but left out (no policy decision: paused, malformed, …). */
  skipped: number
  /** Time of the first and last replayed call (ISO), when any. */
  from?: string
  to?: string
  tools: ToolReplay[]
}

/** Options of {@link replayCalls}. */
export interface ReplayOptions {
  /** The risk floor to apply (the gateway's setting riskFloor). */
  riskFloor: RiskFloor
  /** The class the gateway knows for a tool of a server (from its tools/list), if any. */
  toolClass?: (server: string, tool: string) => ToolClass | undefined
  /** Examples kept per change (default 3). */
  examples?: number
}

/** What was decided for a call record, or undefined when it was no policy decision. */
export function recordedVerdict(r: AuditRecord): Verdict | undefined {
  if (r.kind !== 'call') return undefined
  // A pinned tool that changed is refused (or asked about) whatever the policy says.
  if (r.reason?.startsWith('pin mismatch')) return undefined
  switch (r.decision) {
    case 'allow':
      return 'allow'
    case 'hidden':
      return 'hidden'
    case 'rate_limited':
      return 'rate_limited'
    case 'approved':
    case 'denied_by_user':
    case 'timeout':
    case 'cancelled':
      return 'require_approval'
    case 'deny':
      if (r.decidedBy === 'policy') return 'deny'
      // The policy asked for a person and nobody could answer.
      if (r.decidedBy === 'gateway' && r.reason?.includes('no approver available'))
        return 'require_approval'
      return undefined
    default:
      return undefined
  }
}

/** The verdict of an engine decision. */
export function decisionVerdict(d: Decision): Verdict {
  return d.kind === 'needs_approval' ? 'require_approval' : d.kind
}

function reasonOf(d: Decision): string | undefined {
  switch (d.kind) {
    case 'allow':
      return d.rule === undefined ? undefined : `rule "${d.rule}"`
    case 'hidden':
      return 'hidden by the policy'
    case 'deny':
    case 'rate_limited':
      return d.reason
    case 'needs_approval':
      return d.reason ?? (d.rule === undefined ? undefined : `rule "${d.rule}"`)
  }
}

function argsText(args: unknown): string {
  const s = JSON.stringify(args ?? {}) ?? '{}'
  return s.length > 200 ? `${s.slice(0, 200)}…` : s
}

/**
 * Replays call records (oldest first; other kinds are ignored) against `policy`. Calls the draft
 * would let through count toward its rate limits and counters, as they would have.
 */
export function replayCalls(
  records: Iterable<AuditRecord>,
  policy: Policy,
  opts: ReplayOptions,
): ReplayReport {
  const counters = new CounterStore()
  const maxExamples = opts.examples ?? 3
  const tools = new Map<string, ToolReplay>()
  const report: ReplayReport = { calls: 0, changed: 0, skipped: 0, tools: [] }
  for (const r of records) {
    if (r.kind !== 'call') continue
    const was = recordedVerdict(r)
    const now = Date.parse(r.ts)
    if (was === undefined || !Number.isFinite(now)) {
      report.skipped++
      continue
    }
    const args =
      typeof r.args === 'object' && r.args !== null && !Array.isArray(r.args)
        ? (r.args as Record<string, unknown>)
        : {}
    const risk = opts.toolClass?.(r.server, r.tool)
    const d = decide(
      policy,
      {
        tool: r.tool,
        args,
        sessionId: r.session,
        client: { name: r.client, version: r.clientVersion },
        ...(risk ? { risk } : {}),
      },
      counters,
      now,
      { riskFloor: opts.riskFloor },
    )
    const wouldBe = decisionVerdict(d)
    // A call the draft lets through (or asks about, where the person let it through) counts.
    const forwarded =
      wouldBe === 'allow' || (wouldBe === 'require_approval' && r.decision === 'approved')
    if (forwarded && (d.kind === 'allow' || d.kind === 'needs_approval') && d.reservations.length)
      counters.commit(counters.reserve(d.reservations))

    report.calls++
    report.from ??= r.ts
    report.to = r.ts
    const key = `${r.server}\u0000${r.tool}`
    let t = tools.get(key)
    if (!t) {
      t = { server: r.server, tool: r.tool, calls: 0, unchanged: 0, changes: [] }
      tools.set(key, t)
    }
    t.calls++
    if (was === wouldBe) {
      t.unchanged++
      continue
    }
    report.changed++
    let c = t.changes.find((x) => x.was === was && x.wouldBe === wouldBe)
    if (!c) {
      c = { was, wouldBe, count: 0, examples: [] }
      t.changes.push(c)
    }
    c.count++
    if (c.examples.length < maxExamples) {
      const reason = reasonOf(d)
      c.examples.push({
        seq: r.seq,
        ts: r.ts,
        ...(r.client !== undefined ? { client: r.client } : {}),
        args: argsText(r.args),
        ...(reason !== undefined ? { reason } : {}),
      })
    }
  }
  for (const t of tools.values()) t.changes.sort((a, b) => b.count - a.count)
  report.tools = [...tools.values()].sort(
    (a, b) =>
      Number(b.changes.length > 0) - Number(a.changes.length > 0) ||
      a.server.localeCompare(b.server) ||
      a.tool.localeCompare(b.tool),
  )
  return report
}
