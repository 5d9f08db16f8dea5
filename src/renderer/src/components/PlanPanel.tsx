/**
 * The review of a wrap or a restore before anything is written: what it changes (the diff of
 * each file), what else happens, what it leaves alone; Apply writes exactly this, Cancel (or
 * Escape) writes nothing. Focus moves here when it opens.
 */
import { useEffect, useRef } from 'react'
import type { ClientPlan } from '../../../shared/contract/control-api'
import { DiffView } from './DiffView'

/** Props of the panel. */
export interface PlanPanelProps {
  plan: ClientPlan
  /** Said above the plan (e.g. "the file changed, here is the new diff"). */
  notice?: readonly string[]
  busy: boolean
  error?: string
  onApply: () => void
  onCancel: () => void
}

function title(plan: ClientPlan): string {
  const verb = plan.action === 'wrap' ? 'Protect' : 'Restore'
  return plan.server ? `${verb} ${plan.server} in ${plan.clientName}` : `${verb} ${plan.clientName}`
}

/** The review panel. */
export function PlanPanel({ plan, notice, busy, error, onApply, onCancel }: PlanPanelProps) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    heading.current?.focus()
    heading.current?.scrollIntoView?.({ block: 'nearest' })
  }, [plan.planId])
  const nothing = plan.files.length === 0
  return (
    <section
      className="panel plan-panel"
      aria-labelledby="plan-title"
      data-testid="plan-panel"
      data-action={plan.action}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) {
          e.stopPropagation()
          onCancel()
        }
      }}
    >
      <div className="panel-head">
        <h3 id="plan-title" ref={heading} tabIndex={-1}>
          {title(plan)}
        </h3>
        <span className="small muted">
          {nothing ? 'Nothing to change' : 'Review: nothing is written until you apply'}
        </span>
      </div>
      {notice?.map((n) => (
        <p key={n} className="banner-inline" role="status">
          {n}
        </p>
      ))}
      {plan.files.length > 0 ? (
        <ul className="plain-list small">
          {plan.files.map((f) => (
            <li key={f.file}>
              <span className="mono">{f.file}</span>
              {f.servers.length ? <span className="muted"> — {f.servers.join(', ')}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {plan.diff ? (
        <DiffView diff={plan.diff} label={`Changes to ${plan.clientName}'s config`} />
      ) : null}
      {plan.notes.length > 0 ? (
        <ul className="notes small" data-testid="plan-notes">
          {plan.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      ) : null}
      {plan.errors.length > 0 ? (
        <ul className="state-error small" role="alert">
          {plan.errors.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      ) : null}
      {error ? (
        <p className="state-error small" role="alert">
          {error}
        </p>
      ) : null}
      <div className="actions">
        {nothing ? null : (
          <button type="button" className="btn btn-primary" onClick={onApply} disabled={busy}>
            {busy ? 'Applying…' : plan.action === 'wrap' ? 'Apply: protect' : 'Apply: restore'}
          </button>
        )}
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          {nothing ? 'Close' : 'Cancel'}
        </button>
      </div>
    </section>
  )
}
