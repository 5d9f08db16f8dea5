/** The pending approval cards, oldest first, sharing one ticking clock. */
import type { PendingApprovalView } from '../../../shared/contract/control-api'
import { ApprovalCard } from './ApprovalCard'
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
  const now = useNow(250, pending.length > 0)
  return (
    <div className="approval-list">
      {pending.map((req) => (
        <ApprovalCard key={req.id} req={req} now={now} onDismiss={onDismiss} compact={compact} />
      ))}
    </div>
  )
}
