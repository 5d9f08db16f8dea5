/**
 * One call in full: who, what, the decision and why, the arguments and the result excerpt.
 * Arguments and results are written by agents and servers and may be hostile: they are shown as
 * text only (React escapes them; control and bidi characters are made visible).
 */
import type { CallRow } from '../../../shared/contract/control-api'
import { DecisionBadge, OutcomeBadge } from './DecisionBadge'
import { RetryAction } from './RetryAction'
import { RiskBadge } from './RiskBadge'
import { argsText, formatDateTime, formatLatency, visibleText } from '../format'

/** Props: `retry` carries what the "Allow the retry" action needs (see RetryAction). */
export interface CallDetailsProps {
  row: CallRow
  onClose: () => void
  now: number
  retryBusy: boolean
  onAllowRetry: (callId: string) => void
}

/** The details panel for `row`; `onClose` clears the selection. */
export function CallDetails({ row, onClose, now, retryBusy, onAllowRetry }: CallDetailsProps) {
  return (
    <aside className="details" aria-label="Call details" data-testid="call-details">
      <div className="details-head">
        <h3 className="mono">{row.tool}</h3>
        <button
          type="button"
          className="btn btn-small"
          onClick={onClose}
          aria-label="Close details"
        >
          ✕
        </button>
      </div>
      <dl className="facts">
        <dt>Time</dt>
        <dd>{formatDateTime(row.ts)}</dd>
        <dt>Server</dt>
        <dd>{row.server}</dd>
        <dt>Client</dt>
        <dd>{row.client ?? '—'}</dd>
        <dt>Risk</dt>
        <dd>
          <RiskBadge risk={row.risk} />
        </dd>
        <dt>Decision</dt>
        <dd>
          <DecisionBadge decision={row.decision} />{' '}
          {row.decidedBy ? <span className="muted">by {row.decidedBy}</span> : null}
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
