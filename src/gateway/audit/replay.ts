/**
 * Replay over the audit log: reads the recorded calls (optionally of one server, since a time)
 * and hands them, oldest first, to the pure replay of the policy engine (shared/policy/replay).
 * Used by `airlock policy replay` and by the control API's `policy.replay`.
 */
import type { AuditRecord } from '../../shared/contract/audit-record'
import { replayCalls, type ReplayOptions, type ReplayReport } from '../../shared/policy/replay'
import type { Policy } from '../../shared/policy/types'
import { readRecords } from './reader'

/** What to replay: one server's calls or every server's, since a time (epoch ms) or all. */
export interface ReplayScope {
  server?: string
  sinceMs?: number
}

/** Replays the recorded calls in audit directory `dir` against `policy`. */
export function replayAudit(
  dir: string,
  policy: Policy,
  scope: ReplayScope,
  opts: ReplayOptions,
): ReplayReport {
  return replayCalls(recorded(dir, scope), policy, opts)
}

function* recorded(dir: string, scope: ReplayScope): Generator<AuditRecord> {
  for (const r of readRecords(dir, scope.sinceMs)) {
    if (r.kind !== 'call') continue
    if (scope.server !== undefined && r.server !== scope.server) continue
    if (scope.sinceMs !== undefined && !(Date.parse(r.ts) >= scope.sinceMs)) continue
    yield r
  }
}
