/** Recent decisions people (or their timeouts) made: approved, denied by user, timed out. */
import { useMemo, useState } from 'react'
import type { CallRow } from '../../../shared/contract/control-api'
import { DecisionBadge } from './DecisionBadge'
import { EmptyState } from './EmptyState'
import { ErrorNotice } from './ErrorNotice'
import { Loading } from './Loading'
import { useApi } from '../api-context'
import { applyLive } from '../call-log'
import { formatDateTime, formatTime } from '../format'
import { useApiEvent } from '../hooks/use-api-event'
import { useResource } from '../hooks/use-resource'

const KINDS = ['approved', 'denied_by_user', 'timeout'] as const
const SHOW = 15

/** The last decisions that asked a person, newest first, live. */
export function RecentDecisions() {
  const api = useApi()
  const loaded = useResource(async () => {
    const pages = await Promise.all(
      KINDS.map((decision) => api.audit.query({ filter: { decision }, limit: SHOW })),
    )
    return pages.flatMap((p) => p.rows).sort((a, b) => b.seq - a.seq)
  }, [api])
  const [live, setLive] = useState<readonly CallRow[]>([])
  useApiEvent('audit.appended', (row) => {
    if ((KINDS as readonly string[]).includes(row.decision))
      setLive((prev) => applyLive(prev, [row], {}).slice(0, SHOW))
  })
  const rows = useMemo(() => {
    const seen = new Set<string>()
    return [...live, ...(loaded.data ?? [])]
      .filter((r) => !seen.has(r.callId) && seen.add(r.callId))
      .slice(0, SHOW)
  }, [live, loaded.data])

  return (
    <section className="panel" aria-labelledby="recent-title" data-testid="recent-decisions">
      <h3 id="recent-title">Recent decisions</h3>
      {loaded.error ? (
        <ErrorNotice message={loaded.error} onRetry={loaded.reload} />
      ) : loaded.loading && rows.length === 0 ? (
        <Loading what="recent decisions" />
      ) : rows.length === 0 ? (
        <EmptyState title="No decisions yet.">
          Calls that needed your answer will be listed here.
        </EmptyState>
      ) : (
        <ul className="plain-list">
          {rows.map((r) => (
            <li key={r.callId} className="list-row">
              <span className="muted small" title={formatDateTime(r.ts)}>
                {formatTime(r.ts)}
              </span>
              <span className="ellipsis">
                <span className="mono">{r.tool}</span> <span className="muted">on</span> {r.server}
                {r.client ? <span className="muted"> · {r.client}</span> : null}
              </span>
              {r.decidedBy && r.decidedBy !== 'user' ? (
                <span className="small muted">by {r.decidedBy}</span>
              ) : null}
              <DecisionBadge decision={r.decision} />
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
