/**
 * One pending approval: who wants to run what where, the risk and rule, the arguments (an
 * escaped excerpt: the agent wrote them), a countdown to the automatic deny, and the answers.
 */
import { useState } from 'react'
import type { PendingApprovalView, ResultOf } from '../../../shared/contract/control-api'
import { RiskBadge } from './RiskBadge'
import { useApi } from '../api-context'
import { errorMessage, secondsLeft, visibleText } from '../format'

type Answer = 'allow_once' | 'allow_session' | 'allow_always' | 'deny'

const BUTTONS: readonly { answer: Answer; label: string; className: string; hint: string }[] = [
  {
    answer: 'allow_once',
    label: 'Allow once',
    className: 'btn btn-primary',
    hint: 'Let this call through.',
  },
  {
    answer: 'allow_session',
    label: 'Allow for session',
    className: 'btn',
    hint: 'Let calls of this tool through until this agent session ends.',
  },
  {
    answer: 'allow_always',
    label: 'Always',
    className: 'btn',
    hint: 'Always let calls of this tool through, with any arguments, from every client (asks to confirm; a grant you can revoke).',
  },
  {
    answer: 'deny',
    label: 'Deny',
    className: 'btn btn-danger',
    hint: 'Refuse this call; the agent gets an error.',
  },
]

/** A card for `req`; `now` drives the countdown; `onDismiss` removes a card answered too late; `compact` cuts the arguments to a line. */
export function ApprovalCard({
  req,
  now,
  onDismiss,
  compact = false,
}: {
  req: PendingApprovalView
  now: number
  onDismiss: (id: string) => void
  compact?: boolean
}) {
  const api = useApi()
  const [busy, setBusy] = useState<Answer | undefined>(undefined)
  const [result, setResult] = useState<ResultOf<'approvals.decide'> | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  // "Always" is a considered act: it asks to confirm, stating its scope.
  const [confirmAlways, setConfirmAlways] = useState(false)
  const left = secondsLeft(req.deadline, now)
  const total = Math.max(1, req.deadline - req.requestedAt)
  const fraction = Math.max(0, Math.min(1, (req.deadline - now) / total))
  const expired = left === 0

  const decide = async (answer: Answer): Promise<void> => {
    setBusy(answer)
    setError(undefined)
    try {
      setResult(await api.approvals.decide({ id: req.id, answer }))
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(undefined)
    }
  }

  const titleId = `approval-${req.id}-title`
  // The gateway's reason often just names the rule again.
  const reason =
    req.reason && !(req.rule && req.reason.includes(`"${req.rule}"`)) ? req.reason : undefined
  return (
    <article
      className={`card approval risk-edge-${req.risk ?? 'none'}${compact ? ' compact' : ''}`}
      aria-labelledby={titleId}
      data-testid="approval-card"
      data-approval-id={req.id}
    >
      <header className="approval-head">
        <h3 id={titleId}>
          <span className="who">{req.client}</span> wants to run{' '}
          <span className="mono strong">{req.tool}</span> on{' '}
          <span className="strong">{req.server}</span>
        </h3>
        <RiskBadge risk={req.risk} />
      </header>
      {req.rule || reason ? (
        <p className="small muted">
          {req.rule ? (
            <>
              rule <span className="mono">{visibleText(req.rule)}</span>
            </>
          ) : null}
          {req.rule && reason ? ' · ' : null}
          {reason ? visibleText(reason) : null}
        </p>
      ) : null}
      <pre className="code args" aria-label="Arguments" data-testid="approval-args">
        {visibleText(req.argsExcerpt)}
      </pre>
      <div className="countdown" data-testid="approval-countdown">
        <div className="meter" aria-hidden="true">
          <div className="meter-fill" style={{ width: `${fraction * 100}%` }} />
        </div>
        <span className="small" role="timer" aria-live="off">
          {expired ? 'Time is up: the call is denied.' : `Denied automatically in ${left} s`}
        </span>
      </div>
      {result === 'late' || result === 'unknown' ? (
        <div className="state-error small" role="alert">
          Too late: this request was already answered or timed out
          {result === 'late' ? ' (an identical retry by the agent may now pass)' : ''}.{' '}
          <button type="button" className="btn btn-small" onClick={() => onDismiss(req.id)}>
            Dismiss
          </button>
        </div>
      ) : (
        <div className="approval-buttons" role="group" aria-label={`Answer for ${req.tool}`}>
          {BUTTONS.map((b) => (
            <button
              key={b.answer}
              type="button"
              className={b.className}
              title={b.hint}
              disabled={busy !== undefined || result === 'ok' || confirmAlways}
              onClick={() =>
                b.answer === 'allow_always' ? setConfirmAlways(true) : void decide(b.answer)
              }
            >
              {busy === b.answer ? '…' : b.label}
            </button>
          ))}
        </div>
      )}
      {confirmAlways && result === undefined ? (
        <div
          className="confirm-always small"
          role="alertdialog"
          aria-label="Confirm Always"
          data-testid="confirm-always"
        >
          <p>
            Always allow <span className="mono strong">{req.tool}</span> on{' '}
            <span className="strong">{req.server}</span>: any arguments, from every client, until
            you revoke it (Tools &amp; policy).
          </p>
          <button
            type="button"
            className="btn btn-primary btn-small"
            disabled={busy !== undefined}
            onClick={() => void decide('allow_always')}
          >
            {busy === 'allow_always' ? '…' : 'Yes, always allow'}
          </button>{' '}
          <button
            type="button"
            className="btn btn-small"
            disabled={busy !== undefined}
            onClick={() => setConfirmAlways(false)}
          >
            Cancel
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="state-error small" role="alert">
          {error}
        </p>
      ) : null}
    </article>
  )
}
