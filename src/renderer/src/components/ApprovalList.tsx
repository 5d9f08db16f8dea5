/** The pending approval cards, newest first (its Deny takes the focus), sharing one ticking clock. */
import { useCallback, useMemo } from 'react'
import type { PendingApprovalView } from '../../../shared/contract/control-api'
import { ApprovalCard } from './ApprovalCard'
import { useApi } from '../api-context'
import { useNow } from '../hooks/use-now'

/** Cards for `pending` (`compact` for the dock on other screens); the countdowns tick only while there are any. */
export function ApprovalList({
  pending,
  onDismiss,
  compact = false,
}: {
  pending: readonly PendingApprovalView[]
  onDismiss: (id: string) => void
  compact?: boolean
}) {
  const api = useApi()
  const now = useNow(250, pending.length > 0)
  const newestFirst = useMemo(
    () => [...pending].sort((a, b) => b.requestedAt - a.requestedAt),
    [pending],
  )
  const perSession = useMemo(() => {
    const counts = new Map<string, number>()
    for (const p of pending) counts.set(p.session, (counts.get(p.session) ?? 0) + 1)
    return counts
  }, [pending])
  // Each answer is the gateway's to take: one that comes too late is ignored there.
  const denySession = useCallback(
    (session: string) => {
      for (const p of pending)
        if (p.session === session)
          api.approvals.decide({ id: p.id, answer: 'deny' }).catch(() => undefined)
    },
    [api, pending],
  )
  return (
    <div className="approval-list">
      {newestFirst.map((req, i) => (
        <ApprovalCard
          key={req.id}
          req={req}
          now={now}
          onDismiss={onDismiss}
          compact={compact}
          focus={i === 0}
          sessionCount={perSession.get(req.session) ?? 1}
          onDenySession={denySession}
        />
      ))}
    </div>
  )
}
