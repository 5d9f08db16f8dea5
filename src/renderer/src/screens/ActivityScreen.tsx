/**
 * Activity (the call history): every call, live, with filters, a chart that follows them, details,
 * a link to one call (`#call=<id>` in the URL) and export.
 */
import { useCallback, useEffect, useMemo, useState } from 'react'
import type { CallRow } from '../../../shared/contract/control-api'
import { ActivityFilters, draftToFilter, type FilterDraft } from '../components/ActivityFilters'
import type { FilterKey } from '../components/CallTable'
import { CallChart } from '../components/CallChart'
import { CallDetails } from '../components/CallDetails'
import { CallTable } from '../components/CallTable'
import { EmptyState } from '../components/EmptyState'
import { ErrorNotice } from '../components/ErrorNotice'
import { Loading } from '../components/Loading'
import { useApi } from '../api-context'
import { downloadText } from '../download'
import { errorMessage } from '../format'
import { useCallLog } from '../hooks/use-call-log'
import { useDebounced } from '../hooks/use-debounced'
import { useNow } from '../hooks/use-now'
import { useResource } from '../hooks/use-resource'
import { useApiEvent } from '../hooks/use-api-event'

/** The call id in the URL's fragment (`#call=<id>`), if any. */
export function callFromHash(hash: string = window.location.hash): string | undefined {
  const id = new URLSearchParams(hash.replace(/^#/, '')).get('call')
  return id && id.length <= 128 ? id : undefined
}

/** Puts `#call=<id>` in the URL (or takes it out) without a new history entry or a hashchange. */
function writeCallHash(callId: string | undefined): void {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''))
  if (callId === undefined) params.delete('call')
  else params.set('call', callId)
  params.delete('screen')
  const rest = params.toString()
  const url = `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`
  window.history.replaceState(window.history.state, '', url)
}

/** The Activity screen; the filter draft lives in the App so it survives switching screens. */
export function ActivityScreen({
  draft,
  onDraftChange,
}: {
  draft: FilterDraft
  onDraftChange: (d: FilterDraft) => void
}) {
  const api = useApi()
  const settled = useDebounced(draft, 250)
  const filter = useMemo(() => draftToFilter(settled), [settled])
  const log = useCallLog(filter)
  const servers = useResource(() => api.servers.list(), [api])
  const names = useResource(() => api.audit.names(), [api])
  // New names arrive with calls: refresh the suggestions now and then.
  const [namesStale, setNamesStale] = useState(false)
  useApiEvent('audit.appended', (row) => {
    const n = names.data
    if (n && (!n.tools.includes(row.tool) || (row.client && !n.clients.includes(row.client))))
      setNamesStale(true)
  })
  useEffect(() => {
    if (!namesStale) return
    const t = setTimeout(() => {
      setNamesStale(false)
      names.reload()
    }, 1000)
    return () => clearTimeout(t)
  }, [namesStale, names])
  const suggestions = useMemo(
    () => ({
      servers: [
        ...new Set([
          ...(servers.data ?? []).map((s) => s.config.name),
          ...(names.data?.servers ?? []),
        ]),
      ],
      tools: names.data?.tools ?? [],
      clients: names.data?.clients ?? [],
    }),
    [servers.data, names.data],
  )
  const [linkError, setLinkError] = useState<string | undefined>(undefined)
  const [selectedId, setSelectedIdState] = useState<string | undefined>(() => callFromHash())
  const setSelectedId = useCallback((id: string | undefined) => {
    setSelectedIdState(id)
    setLinkError(undefined)
    writeCallHash(id)
  }, [])
  // A link to one call: the row may be outside the current page or filters; fetch it.
  const [linked, setLinked] = useState<CallRow | undefined>(undefined)
  const fetchLink = useCallback(
    (callId: string) => {
      api.audit.call({ callId }).then(
        (row) => {
          if (row) setLinked(row)
          else setLinkError(`No call with id ${callId} is in the audit log.`)
        },
        (err: unknown) => setLinkError(errorMessage(err)),
      )
    },
    [api],
  )
  useEffect(() => {
    // The first render selected the call in the address already (useState above).
    const first = callFromHash()
    if (first !== undefined) fetchLink(first)
    const onHash = (): void => {
      const id = callFromHash()
      if (id === undefined) return
      setSelectedIdState(id)
      setLinkError(undefined)
      fetchLink(id)
    }
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [fetchLink])
  const selected = useMemo(() => {
    if (selectedId === undefined) return undefined
    return (
      log.rows.find((r) => r.callId === selectedId) ??
      (linked?.callId === selectedId ? linked : undefined)
    )
  }, [log.rows, selectedId, linked])
  const filterBy = useCallback(
    (key: FilterKey, value: string) => {
      if (key === 'decision') onDraftChange({ ...draft, decisions: [value] })
      else onDraftChange({ ...draft, [key]: value })
    },
    [draft, onDraftChange],
  )
  const [exporting, setExporting] = useState<string | undefined>(undefined)
  const [exportError, setExportError] = useState<string | undefined>(undefined)
  const [retryBusy, setRetryBusy] = useState<string | undefined>(undefined)
  const [retryError, setRetryError] = useState<string | undefined>(undefined)
  // Late-allow windows close on their own: the clock hides expired "Allow the retry" buttons.
  const now = useNow(
    15_000,
    log.rows.some((r) => r.retry !== undefined),
  )

  const { update } = log
  const allowRetry = useCallback(
    (callId: string): void => {
      setRetryBusy(callId)
      setRetryError(undefined)
      api.approvals.allowRetry({ callId }).then(
        (retry) => {
          update(callId, { retry })
          setRetryBusy(undefined)
        },
        (err: unknown) => {
          setRetryError(errorMessage(err))
          setRetryBusy(undefined)
        },
      )
    },
    [api, update],
  )

  const exportAs = async (format: 'csv' | 'jsonl'): Promise<void> => {
    setExporting(format)
    setExportError(undefined)
    try {
      const file = await api.audit.export({ filter, format })
      downloadText(file.filename, file.text, format === 'csv' ? 'text/csv' : 'application/x-ndjson')
    } catch (err) {
      setExportError(errorMessage(err))
    } finally {
      setExporting(undefined)
    }
  }

  const sinceMs = filter.since === undefined ? undefined : Date.parse(String(filter.since))
  const untilMs = filter.until === undefined ? undefined : Date.parse(String(filter.until))
  const filtered = Object.keys(filter).length > 0
  const chartFilter = useMemo(() => {
    const f = { ...filter }
    delete f.since
    delete f.until
    return f
  }, [filter])

  return (
    <div className="screen activity" data-testid="screen-activity">
      <div className="screen-head">
        <h2>Activity</h2>
        <div className="actions">
          <button
            type="button"
            className="btn"
            onClick={() => void exportAs('csv')}
            disabled={exporting !== undefined}
          >
            {exporting === 'csv' ? 'Exporting…' : 'Export CSV'}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => void exportAs('jsonl')}
            disabled={exporting !== undefined}
          >
            {exporting === 'jsonl' ? 'Exporting…' : 'Export JSONL'}
          </button>
        </div>
      </div>
      {exportError ? <ErrorNotice message={`Export failed: ${exportError}`} /> : null}
      {retryError ? <ErrorNotice message={`Not allowed: ${retryError}`} /> : null}
      <ActivityFilters draft={draft} suggestions={suggestions} onChange={onDraftChange} />
      <CallChart since={sinceMs} until={untilMs} filter={chartFilter} />
      {linkError ? <ErrorNotice message={linkError} /> : null}
      <div className="activity-body">
        <div className="activity-list">
          {log.error && log.rows.length === 0 ? (
            <ErrorNotice message={log.error} onRetry={log.reload} />
          ) : log.loading && log.rows.length === 0 ? (
            <Loading what="calls" />
          ) : log.rows.length === 0 ? (
            <EmptyState
              title={filtered ? 'No calls match these filters.' : 'No calls yet.'}
              testId="activity-empty"
            >
              {filtered
                ? 'Change or clear the filters.'
                : 'Calls appear here as soon as an agent uses a tool through Airlock (airlock connect <server>).'}
            </EmptyState>
          ) : (
            <CallTable
              rows={log.rows}
              selectedId={selectedId}
              onSelect={setSelectedId}
              hasMore={log.hasMore}
              loading={log.loading}
              onEndReached={log.loadMore}
              onFilter={filterBy}
              now={now}
              retryBusy={retryBusy}
              onAllowRetry={allowRetry}
            />
          )}
          <div className="list-foot small muted" aria-live="polite">
            <span data-testid="call-count">
              {log.rows.length} {log.rows.length === 1 ? 'call' : 'calls'} shown
              {log.hasMore ? ', more available' : ''}
            </span>
            {log.hasMore ? (
              <button
                type="button"
                className="btn btn-small"
                onClick={log.loadMore}
                disabled={log.loading}
              >
                {log.loading ? 'Loading…' : 'Load more'}
              </button>
            ) : null}
            {log.error && log.rows.length > 0 ? (
              <span className="text-bad">{log.error}</span>
            ) : null}
          </div>
        </div>
        {selected ? (
          <CallDetails
            row={selected}
            onClose={() => setSelectedId(undefined)}
            onFilter={filterBy}
            now={now}
            retryBusy={retryBusy === selected.callId}
            onAllowRetry={allowRetry}
          />
        ) : null}
      </div>
    </div>
  )
}
