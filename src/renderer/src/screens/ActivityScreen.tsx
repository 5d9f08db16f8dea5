/** Activity: every call, live, with filters, a chart, details, and export. */
import { useCallback, useMemo, useState } from 'react'
import { ActivityFilters, draftToFilter, type FilterDraft } from '../components/ActivityFilters'
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
  const serverNames = useMemo(() => (servers.data ?? []).map((s) => s.config.name), [servers.data])
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined)
  const selected = useMemo(
    () => (selectedId === undefined ? undefined : log.rows.find((r) => r.callId === selectedId)),
    [log.rows, selectedId],
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
      <ActivityFilters draft={draft} servers={serverNames} onChange={onDraftChange} />
      <CallChart since={sinceMs} until={untilMs} server={filter.server} />
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
            now={now}
            retryBusy={retryBusy === selected.callId}
            onAllowRetry={allowRetry}
          />
        ) : null}
      </div>
    </div>
  )
}
