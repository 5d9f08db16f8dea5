/** Grants: remembered approvals ("this session", "always"…) and a way to revoke each. */
import { useEffect, useRef, useState } from 'react'
import type { GrantView } from '../../../shared/contract/control-api'
import { EmptyState } from './EmptyState'
import { ErrorNotice } from './ErrorNotice'
import { Loading } from './Loading'
import { useApi } from '../api-context'
import { errorMessage, formatDateTime, shortId } from '../format'
import { useApiEvent } from '../hooks/use-api-event'
import { useResource } from '../hooks/use-resource'

const SCOPES: Record<GrantView['scope'], string> = {
  call: 'this exact call, once',
  session: 'this session',
  tool: 'this tool, every session',
  always: 'always',
}

/** The grants list; refreshed after every answered approval. */
export function GrantList() {
  const api = useApi()
  const grants = useResource(() => api.grants.list(), [api])
  const [error, setError] = useState<string | undefined>(undefined)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useApiEvent('approval.resolved', () => {
    clearTimeout(timer.current)
    timer.current = setTimeout(grants.reload, 100)
  })
  useEffect(() => () => clearTimeout(timer.current), [])
  // A grant with an expiry leaves the list when it expires.
  const nextExpiry = Math.min(...(grants.data ?? []).map((g) => g.until ?? Infinity))
  const reload = grants.reload
  useEffect(() => {
    if (!Number.isFinite(nextExpiry)) return
    const t = setTimeout(reload, Math.max(0, nextExpiry - Date.now()) + 500)
    return () => clearTimeout(t)
  }, [nextExpiry, reload])

  const revoke = async (id: string): Promise<void> => {
    setError(undefined)
    try {
      await api.grants.revoke({ id })
    } catch (err) {
      setError(errorMessage(err))
    }
    grants.reload()
  }

  const list = grants.data ?? []
  return (
    <section className="panel" aria-labelledby="grants-title" data-testid="grants">
      <h3 id="grants-title">Grants</h3>
      {error ? <ErrorNotice message={error} /> : null}
      {grants.error ? (
        <ErrorNotice message={grants.error} onRetry={grants.reload} />
      ) : grants.loading && !grants.data ? (
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
              <span className="small muted">
                {SCOPES[g.scope]}
                {g.session ? ` (${shortId(g.session)})` : ''}
                {g.until ? ` · expires ${formatDateTime(g.until)}` : ''}
              </span>
              <button
                type="button"
                className="btn btn-small"
                onClick={() => void revoke(g.id)}
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
