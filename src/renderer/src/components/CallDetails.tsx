/**
 * One call in full: who, what, the decision and why, the arguments and the result excerpt.
 * Arguments and results are written by agents and servers and may be hostile: they are shown as
 * text only (React escapes them; control and bidi characters are made visible).
 */
import { useState } from 'react'
import type { CallRow } from '../../../shared/contract/control-api'
import type { FilterKey } from './CallTable'
import { DecisionBadge, OutcomeBadge, decisionLabel } from './DecisionBadge'
import { RetryAction } from './RetryAction'
import { RiskBadge } from './RiskBadge'
import { argsText, formatDateTime, formatLatency, visibleText } from '../format'

/** The link to one call: this page with `#call=<id>` (the access token is never in it). */
export function callLink(callId: string): string {
  const { origin, pathname, search } = window.location
  const base = origin === 'null' || origin === '' ? '' : `${origin}${pathname}${search}`
  return `${base}#call=${encodeURIComponent(callId)}`
}

/** A small "only this value" button beside a fact. */
function FilterButton({
  what,
  value,
  label,
  onFilter,
}: {
  what: FilterKey
  value: string | undefined
  label: string
  onFilter: ((key: FilterKey, value: string) => void) | undefined
}) {
  if (!onFilter || value === undefined) return null
  return (
    <button
      type="button"
      className="btn btn-small btn-quiet"
      onClick={() => onFilter(what, value)}
      aria-label={`Only calls with ${what} ${label}`}
    >
      only this
    </button>
  )
}

/** Props of the details panel. */
export interface CallDetailsProps {
  row: CallRow
  onClose: () => void
  onFilter?: (key: FilterKey, value: string) => void
  /** `now`, `retryBusy` and `onAllowRetry` drive the "Allow the retry" action (see RetryAction). */
  now: number
  retryBusy: boolean
  onAllowRetry: (callId: string) => void
}

/** The details panel for `row`; `onClose` clears the selection; `onFilter` filters by a value. */
export function CallDetails({
  row,
  onClose,
  onFilter,
  now,
  retryBusy,
  onAllowRetry,
}: CallDetailsProps) {
  const [copied, setCopied] = useState<string | undefined>(undefined)
  const link = callLink(row.callId)
  const copy = (): void => {
    const done = (msg: string) => () => setCopied(msg)
    if (navigator.clipboard?.writeText)
      navigator.clipboard.writeText(link).then(done('Link copied.'), done(link))
    else setCopied(link)
  }
  return (
    <aside className="details" aria-label="Call details" data-testid="call-details">
      <div className="details-head">
        <h3 className="mono">
          {row.kind === 'server_request' ? '↩ ' : ''}
          {row.tool}
        </h3>
        <button
          type="button"
          className="btn btn-small"
          onClick={onClose}
          aria-label="Close details"
        >
          ✕
        </button>
      </div>
      {row.kind === 'server_request' ? (
        <p className="small muted">
          A request the server sent the client (decided by the policy&apos;s server_requests).
        </p>
      ) : null}
      <dl className="facts">
        <dt>Time</dt>
        <dd>{formatDateTime(row.ts)}</dd>
        <dt>Server</dt>
        <dd>
          {row.server}{' '}
          <FilterButton what="server" value={row.server} label={row.server} onFilter={onFilter} />
        </dd>
        <dt>Client</dt>
        <dd>
          {row.client ?? '—'}{' '}
          <FilterButton
            what="client"
            value={row.client}
            label={row.client ?? ''}
            onFilter={onFilter}
          />
        </dd>
        <dt>Tool</dt>
        <dd>
          <span className="mono">{row.tool}</span>{' '}
          <FilterButton what="tool" value={row.tool} label={row.tool} onFilter={onFilter} />
        </dd>
        <dt>Risk</dt>
        <dd>
          <RiskBadge risk={row.risk} />
        </dd>
        <dt>Decision</dt>
        <dd>
          <DecisionBadge decision={row.decision} />{' '}
          {row.decidedBy ? <span className="muted">by {row.decidedBy}</span> : null}{' '}
          <FilterButton
            what="decision"
            value={row.decision}
            label={decisionLabel(row.decision)}
            onFilter={onFilter}
          />
        </dd>
        {row.rule ? (
          <>
            <dt>Rule</dt>
            <dd className="mono">{row.rule}</dd>
          </>
        ) : null}
        {row.reason ? (
          <>
            <dt>Reason</dt>
            <dd>{visibleText(row.reason)}</dd>
          </>
        ) : null}
        <dt>Outcome</dt>
        <dd>
          <OutcomeBadge row={row} />
        </dd>
        {row.retry && row.retry.until > now ? (
          <>
            <dt>Retry</dt>
            <dd data-testid="call-retry">
              <RetryAction row={row} now={now} busy={retryBusy} onAllow={onAllowRetry} />
              {row.retry.allowedBy === undefined ? (
                <span className="small muted">
                  {' '}
                  Nobody answered in time. Allowed now, the agent&apos;s identical retry passes once
                  without asking.
                </span>
              ) : (
                <span className="small muted"> by {row.retry.allowedBy}</span>
              )}
            </dd>
          </>
        ) : null}
        <dt>Latency</dt>
        <dd>{formatLatency(row.latencyMs)}</dd>
        <dt>Session</dt>
        <dd className="mono small">{row.session}</dd>
        <dt>Call id</dt>
        <dd className="mono small">{row.callId}</dd>
        <dt>Link</dt>
        <dd>
          <a href={link} data-testid="call-link">
            link to this call
          </a>{' '}
          <button type="button" className="btn btn-small btn-quiet" onClick={copy}>
            Copy link
          </button>
          {copied ? (
            <span className="muted small" role="status">
              {' '}
              {copied}
            </span>
          ) : null}
        </dd>
      </dl>
      <h4>Arguments</h4>
      <pre className="code" data-testid="call-args">
        {argsText(row.args)}
      </pre>
      <h4>Result excerpt</h4>
      <pre className="code" data-testid="call-result">
        {row.detail
          ? visibleText(row.detail)
          : row.outcome
            ? '(no excerpt recorded)'
            : '(no result)'}
      </pre>
    </aside>
  )
}
