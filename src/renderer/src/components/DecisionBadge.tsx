/** A call's decision or outcome as a coloured badge with words a person reads. */
import { memo } from 'react'
import type { CallRow } from '../../../shared/contract/control-api'

type Tone = 'good' | 'info' | 'bad' | 'warn' | 'muted'

const DECISIONS: Record<CallRow['decision'], [string, Tone]> = {
  allow: ['allowed', 'good'],
  approved: ['approved', 'info'],
  deny: ['denied', 'bad'],
  denied_by_user: ['denied by user', 'bad'],
  hidden: ['hidden', 'muted'],
  rate_limited: ['rate limited', 'warn'],
  timeout: ['timed out', 'warn'],
  cancelled: ['cancelled', 'muted'],
  paused: ['paused', 'warn'],
  error: ['error', 'bad'],
}

const OUTCOMES: Record<NonNullable<CallRow['outcome']>, [string, Tone]> = {
  ok: ['ok', 'good'],
  is_error: ['tool error', 'warn'],
  error: ['error', 'bad'],
  server_exit: ['server exited', 'bad'],
  cancelled: ['cancelled', 'muted'],
}

/** The words for a decision kind ("denied by user"). */
export function decisionLabel(decision: CallRow['decision']): string {
  return DECISIONS[decision]?.[0] ?? decision
}

/** Shows a decision kind. */
export const DecisionBadge = memo(function DecisionBadge({
  decision,
}: {
  decision: CallRow['decision']
}) {
  const [label, tone] = DECISIONS[decision] ?? [decision, 'muted']
  return <span className={`badge tone-${tone}`}>{label}</span>
})

/** Shows a forwarded call's outcome; "running" while a forwarded call has none yet. */
export const OutcomeBadge = memo(function OutcomeBadge({
  row,
}: {
  row: Pick<CallRow, 'outcome' | 'decision' | 'kind'>
}) {
  if (!row.outcome) {
    // A server's request passed on to the client has no outcome record.
    const forwarded =
      row.kind !== 'server_request' && (row.decision === 'allow' || row.decision === 'approved')
    return forwarded ? (
      <span className="badge tone-muted">running…</span>
    ) : (
      <span className="muted">—</span>
    )
  }
  const [label, tone] = OUTCOMES[row.outcome] ?? [row.outcome, 'muted']
  return <span className={`badge tone-${tone}`}>{label}</span>
})
