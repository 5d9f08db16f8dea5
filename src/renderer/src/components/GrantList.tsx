/**
 * Grants: remembered approvals ("this session", "always"…) and a way to revoke each. Every grant
 * also shows on its tool's row in Tools & policy, with the same Revoke (see use-grants.ts).
 */
import { EmptyState } from './EmptyState'
import { ErrorNotice } from './ErrorNotice'
import { Loading } from './Loading'
import { grantScopeText } from '../grant-text'
import { useGrants } from '../hooks/use-grants'

/** The list of every grant, live. */
export function GrantList() {
  const grants = useGrants()
  const list = grants.list
  return (
    <section className="panel" aria-labelledby="grants-title" data-testid="grants">
      <h3 id="grants-title">Grants</h3>
      {grants.revokeError ? <ErrorNotice message={grants.revokeError} /> : null}
      {grants.error ? (
        <ErrorNotice message={grants.error} onRetry={grants.reload} />
      ) : grants.loading ? (
        <Loading what="grants" />
      ) : list.length === 0 ? (
        <EmptyState title="No grants.">
          “Allow for session”, “Allow for 1 hour” and “Always” answers are remembered here until
          they expire or you revoke them.
        </EmptyState>
      ) : (
        <ul className="plain-list">
          {list.map((g) => (
            <li key={g.id} className="list-row" data-testid="grant">
              <span className="ellipsis">
                <span className="mono">{g.tool}</span> <span className="muted">on</span> {g.server}
              </span>
              <span className="small muted">{grantScopeText(g)}</span>
              <button
                type="button"
                className="btn btn-small"
                onClick={() => void grants.revoke(g.id)}
                aria-label={`Revoke grant for ${g.tool} on ${g.server}`}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
