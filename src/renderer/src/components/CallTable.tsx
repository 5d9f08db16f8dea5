/**
 * The Activity table, windowed: rows have a fixed height and only those in view (plus a margin)
 * are rendered, so 100 000 calls scroll as smoothly as 100. The grid is one tab stop; arrow keys,
 * Page Up/Down, Home and End move the selection, which opens the details panel.
 */
import {
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
} from 'react'
import type { CallRow } from '../../../shared/contract/control-api'
import { DecisionBadge, OutcomeBadge, decisionLabel } from './DecisionBadge'
import { RetryAction } from './RetryAction'
import { RiskBadge } from './RiskBadge'
import { formatDateTime, formatLatency, formatTime } from '../format'
import { excerpt } from '../../../shared/text'

/** Row height in pixels (must match `.call-row` in styles.css). */
export const ROW_HEIGHT = 32
const OVERSCAN = 8
/** Rows from the end at which the next page is asked for. */
const END_MARGIN = 40

const COLUMNS = [
  'Time',
  'Client',
  'Server',
  'Tool',
  'Arguments',
  'Risk',
  'Decision',
  'Decided by',
  'Latency',
  'Outcome',
] as const

/** A column a cell's value can filter by. */
export type FilterKey = 'client' | 'server' | 'tool' | 'decision'

/** Characters of arguments shown in the table (the details panel shows them all). */
const ARGS_CHARS = 160

/** Columns that give way first on a narrow window (styles.css hides them by width). */
const HEAD_CLASS: Partial<Record<(typeof COLUMNS)[number], string>> = {
  Risk: 'col-risk',
  'Decided by': 'col-by',
  Latency: 'col-latency num',
}

interface RowProps {
  row: CallRow
  index: number
  selected: boolean
  onSelect: (callId: string) => void
  onFilter: ((key: FilterKey, value: string) => void) | undefined
  now: number
  retryBusy: boolean
  onAllowRetry: (callId: string) => void
}

/** A funnel drawn in SVG (a font glyph may be missing on Linux). */
function FunnelIcon() {
  return (
    <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <path d="M1.5 2h13l-5 6v5l-3 1.5V8z" fill="currentColor" />
    </svg>
  )
}

/** The "only calls with this value" button at the end of a cell (out of the tab order: the details panel has the same). */
function CellFilter({
  what,
  value,
  label,
  onFilter,
}: {
  what: FilterKey
  value: string | undefined
  label: string
  onFilter: RowProps['onFilter']
}) {
  if (!onFilter || value === undefined) return null
  return (
    <button
      type="button"
      tabIndex={-1}
      className="cell-filter"
      aria-label={`Only ${what} ${label}`}
      title={`Show only calls with ${what} ${label}`}
      data-testid={`filter-${what}`}
      onClick={(e) => {
        e.stopPropagation()
        onFilter(what, value)
      }}
    >
      <FunnelIcon />
    </button>
  )
}

const CallTableRow = memo(function CallTableRow({
  row,
  index,
  selected,
  onSelect,
  onFilter,
  now,
  retryBusy,
  onAllowRetry,
}: RowProps) {
  const retrying = row.retry !== undefined && row.retry.until > now
  const args = row.args === undefined ? '' : excerpt(row.args, ARGS_CHARS)
  return (
    <div
      role="row"
      id={`call-${row.callId}`}
      aria-rowindex={index + 2}
      aria-selected={selected}
      className={`call-row${selected ? ' selected' : ''}${index % 2 ? ' odd' : ''}`}
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      data-testid="call-row"
      data-call-id={row.callId}
      onClick={() => onSelect(row.callId)}
    >
      <div role="gridcell" className="nowrap" title={formatDateTime(row.ts)}>
        {formatTime(row.ts)}
      </div>
      <div role="gridcell" className="filterable" title={row.client}>
        <span className="ellipsis">{row.client ?? '—'}</span>
        <CellFilter what="client" value={row.client} label={row.client ?? ''} onFilter={onFilter} />
      </div>
      <div role="gridcell" className="filterable" title={row.server}>
        <span className="ellipsis">{row.server}</span>
        <CellFilter what="server" value={row.server} label={row.server} onFilter={onFilter} />
      </div>
      <div role="gridcell" className="filterable" title={row.tool}>
        <span className="ellipsis mono" data-testid="call-tool">
          {row.kind === 'server_request' ? (
            <span title="a request the server sent the client" data-testid="server-request-mark">
              ↩{' '}
            </span>
          ) : null}
          {row.tool}
        </span>
        <CellFilter what="tool" value={row.tool} label={row.tool} onFilter={onFilter} />
      </div>
      <div
        role="gridcell"
        className="ellipsis mono args-cell"
        title={args.length > 0 ? excerpt(row.args, 1000) : undefined}
        data-testid="call-args-cell"
      >
        {args}
      </div>
      <div role="gridcell" className="col-risk">
        <RiskBadge risk={row.risk} />
      </div>
      <div role="gridcell" className="filterable" data-testid="call-decision">
        <DecisionBadge decision={row.decision} />
        <CellFilter
          what="decision"
          value={row.decision}
          label={decisionLabel(row.decision)}
          onFilter={onFilter}
        />
      </div>
      <div
        role="gridcell"
        className="ellipsis col-by"
        title={row.rule ? `rule: ${row.rule}` : undefined}
      >
        {row.decidedBy ?? '—'}
      </div>
      <div role="gridcell" className="num col-latency">
        {formatLatency(row.latencyMs)}
      </div>
      <div role="gridcell">
        {retrying ? (
          <RetryAction row={row} now={now} busy={retryBusy} onAllow={onAllowRetry} />
        ) : (
          <OutcomeBadge row={row} />
        )}
      </div>
    </div>
  )
})

/** Props of the table. */
export interface CallTableProps {
  rows: readonly CallRow[]
  selectedId: string | undefined
  onSelect: (callId: string | undefined) => void
  hasMore: boolean
  loading: boolean
  onEndReached: () => void
  /** Filters the list by a cell's value (the funnel in client, server, tool and decision cells). */
  onFilter?: (key: FilterKey, value: string) => void
  /** The clock the rows' late-allow windows are compared with. */
  now: number
  /** The call whose late allow is being sent, if any. */
  retryBusy: string | undefined
  onAllowRetry: (callId: string) => void
}

/** A windowed, keyboard-operable table of calls, newest first. */
export function CallTable({
  rows,
  selectedId,
  onSelect,
  hasMore,
  loading,
  onEndReached,
  onFilter,
  now,
  retryBusy,
  onAllowRetry,
}: CallTableProps) {
  const viewport = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(480)

  useLayoutEffect(() => {
    const el = viewport.current
    if (!el) return
    setHeight(el.clientHeight)
    const ro = new ResizeObserver(() => setHeight(el.clientHeight))
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  // When live rows arrive on top while the user looks further down, keep what they look at.
  const firstKey = useRef<string | undefined>(undefined)
  useLayoutEffect(() => {
    const el = viewport.current
    const prevFirst = firstKey.current
    firstKey.current = rows[0]?.callId
    if (!el || prevFirst === undefined || el.scrollTop === 0 || rows[0]?.callId === prevFirst)
      return
    // Rows above the old first one are new; they come only from the top.
    let added = 0
    while (added < rows.length && added < 10_000 && rows[added]!.callId !== prevFirst) added++
    if (added < rows.length) el.scrollTop += added * ROW_HEIGHT
  }, [rows])

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN)

  useEffect(() => {
    if (hasMore && !loading && rows.length > 0 && last >= rows.length - END_MARGIN) onEndReached()
  }, [hasMore, loading, last, rows.length, onEndReached])

  const selectedIndex = selectedId === undefined ? -1 : indexOf(rows, selectedId)

  const select = useCallback((callId: string) => onSelect(callId), [onSelect])

  const moveTo = (index: number): void => {
    if (rows.length === 0) return
    const i = Math.max(0, Math.min(rows.length - 1, index))
    onSelect(rows[i]!.callId)
    const el = viewport.current
    if (!el) return
    const top = i * ROW_HEIGHT
    if (top < el.scrollTop) el.scrollTop = top
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight)
      el.scrollTop = top + ROW_HEIGHT - el.clientHeight
  }

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1)
    const at = selectedIndex
    const keys: Record<string, () => void> = {
      ArrowDown: () => moveTo(at + 1),
      ArrowUp: () => moveTo(at < 0 ? 0 : at - 1),
      PageDown: () => moveTo(at + page),
      PageUp: () => moveTo(at - page),
      Home: () => moveTo(0),
      End: () => moveTo(rows.length - 1),
      Escape: () => onSelect(undefined),
    }
    const action = keys[e.key]
    if (!action) return
    e.preventDefault()
    action()
  }

  const visible: CallRow[] = []
  for (let i = first; i < last; i++) visible.push(rows[i]!)

  return (
    <div
      className="call-table"
      role="grid"
      aria-label="Calls"
      aria-rowcount={hasMore ? -1 : rows.length + 1}
      aria-activedescendant={selectedIndex >= 0 ? `call-${selectedId}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-testid="call-table"
    >
      <div role="rowgroup" className="call-head">
        <div role="row" aria-rowindex={1} className="call-row head">
          {COLUMNS.map((c) => (
            <div role="columnheader" key={c} className={HEAD_CLASS[c]}>
              {c}
            </div>
          ))}
        </div>
      </div>
      <div
        role="rowgroup"
        className="call-viewport"
        ref={viewport}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div className="call-canvas" style={{ height: rows.length * ROW_HEIGHT }}>
          {visible.map((row, k) => (
            <CallTableRow
              key={row.callId}
              row={row}
              index={first + k}
              selected={row.callId === selectedId}
              onSelect={select}
              onFilter={onFilter}
              now={now}
              retryBusy={retryBusy === row.callId}
              onAllowRetry={onAllowRetry}
            />
          ))}
        </div>
      </div>
    </div>
  )
}

function indexOf(rows: readonly CallRow[], callId: string): number {
  for (let i = 0; i < rows.length; i++) if (rows[i]!.callId === callId) return i
  return -1
}
