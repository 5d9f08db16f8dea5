/** Approvals: the pending requests, recent decisions, and grants. */
import type { Approvals } from '../hooks/use-approvals'
import { ApprovalList } from '../components/ApprovalList'
import { EmptyState } from '../components/EmptyState'
import { ErrorNotice } from '../components/ErrorNotice'
import { GrantList } from '../components/GrantList'
import { Loading } from '../components/Loading'
import { RecentDecisions } from '../components/RecentDecisions'

/** The Approvals screen over the App's pending list. */
export function ApprovalsScreen({ approvals }: { approvals: Approvals }) {
  return (
    <div className="screen" data-testid="screen-approvals">
      <div className="screen-head">
        <h2>Approvals</h2>
      </div>
      <section aria-labelledby="pending-title">
        <h3 id="pending-title">Waiting for your answer</h3>
        {approvals.error ? (
          <ErrorNotice message={approvals.error} onRetry={approvals.reload} />
        ) : approvals.pending.length > 0 ? (
          <ApprovalList pending={approvals.pending} onDismiss={approvals.dismiss} />
        ) : approvals.loading ? (
          <Loading what="pending approvals" />
        ) : (
          <EmptyState title="Nothing is waiting for you." testId="approvals-empty">
            When a policy says a tool call needs approval, it appears here at once, with a
            countdown.
          </EmptyState>
        )}
      </section>
      <div className="two-columns">
        <RecentDecisions />
        <GrantList />
      </div>
    </div>
  )
}
