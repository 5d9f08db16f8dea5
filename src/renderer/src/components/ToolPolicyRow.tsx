/** One tool in the Tools & policy table: its risk, what the saved policy does, and the editors. */
import { memo, useEffect, useState, type KeyboardEvent } from 'react'
import type { GrantView, ToolView } from '../../../shared/contract/control-api'
import { Field } from './Field'
import { grantScopeText } from '../grant-text'
import { RiskBadge } from './RiskBadge'
import type { Posture, ToolAction, ToolSetting } from '../policy-edit'

const ACTIONS: readonly ToolAction[] = ['default', 'allow', 'require_approval', 'deny', 'hide']
const ACTION_LABELS: Record<ToolAction, string> = {
  default: 'default',
  allow: 'allow',
  require_approval: 'require approval',
  deny: 'deny',
  hide: 'hide',
}
const EFFECTIVE: Record<ToolView['action'], [string, string]> = {
  allow: ['allowed', 'tone-good'],
  deny: ['denied', 'tone-bad'],
  hide: ['hidden', 'tone-muted'],
  require_approval: ['asks', 'tone-info'],
  rate_limited: ['rate limited', 'tone-warn'],
}

/**
 * Props: `tool` may be a bare name known only from the policy; `onChange` applies a setting and
 * resolves to why it cannot be applied (the policy check's words), or undefined when applied.
 */
export interface ToolPolicyRowProps {
  name: string
  tool: ToolView | undefined
  setting: ToolSetting
  posture: Posture | undefined
  disabled: boolean
  onChange: (name: string, setting: ToolSetting) => Promise<string | undefined>
  /** The grants that let this tool's calls pass without asking (none: an empty list). */
  grants: readonly GrantView[]
  onRevoke: (id: string) => void
}

/** The row; text fields apply on Enter or when they lose focus. */
export const ToolPolicyRow = memo(function ToolPolicyRow({
  name,
  tool,
  setting,
  posture,
  disabled,
  onChange,
  grants,
  onRevoke,
}: ToolPolicyRowProps) {
  const [rate, setRate] = useState(setting.rateLimit)
  const [reason, setReason] = useState(setting.reason)
  const [clients, setClients] = useState(setting.clients ?? '')
  const [error, setError] = useState<string | undefined>(undefined)
  useEffect(() => setRate(setting.rateLimit), [setting.rateLimit])
  useEffect(() => setReason(setting.reason), [setting.reason])
  useEffect(() => setClients(setting.clients ?? ''), [setting.clients])

  const apply = (next: ToolSetting): void => {
    onChange(name, next).then(setError, (err: unknown) => setError(String(err)))
  }
  const commitText = (): void => {
    if (
      rate !== setting.rateLimit ||
      reason !== setting.reason ||
      clients !== (setting.clients ?? '') ||
      error !== undefined
    )
      apply({ ...setting, rateLimit: rate, reason, clients })
  }
  const onEnter = (e: KeyboardEvent<HTMLInputElement>): void => {
    if (e.key === 'Enter') {
      e.preventDefault()
      commitText()
    }
  }
  const errorId = `tool-${name}-error`
  return (
    <div className="tool-row" role="row" data-testid="tool-row" data-tool={name}>
      <div role="gridcell" className="tool-name">
        <span className="mono strong">{name}</span>
        {tool?.description ? (
          <span className="small muted ellipsis" title={tool.description}>
            {tool.description}
          </span>
        ) : null}
      </div>
      <div role="gridcell">
        <RiskBadge risk={tool?.risk} />
        {tool ? <span className="small muted"> {tool.category}</span> : null}
      </div>
      <div role="gridcell" className="small" data-testid="tool-effective">
        {tool?.conditional ? (
          <span
            className="badge tone-info"
            data-testid="tool-conditional"
            title={`Depends on the call (its arguments, counters or client). A call without arguments is ${EFFECTIVE[tool.action][0]}; try one below.`}
          >
            conditional
          </span>
        ) : null}
        {tool?.conditional ? (
          <span className="small muted"> (no arguments: {EFFECTIVE[tool.action][0]})</span>
        ) : tool ? (
          <>
            <span className={`badge ${EFFECTIVE[tool.action][1]}`}>
              {EFFECTIVE[tool.action][0]}
            </span>
            {tool.floor ? (
              <span
                className="small muted"
                data-testid="tool-floor"
                title={`No rule of this policy decides ${name}: Airlock's risk floor asks you (${tool.floor}). A rule for it under tools decides it instead.`}
              >
                {' '}
                risk floor
              </span>
            ) : null}
          </>
        ) : (
          <span className="muted">not seen</span>
        )}
      </div>
      <div role="gridcell">
        <Field label={`Action for ${name}`} hiddenLabel>
          {(p) => (
            <select
              {...p}
              value={setting.action}
              disabled={disabled}
              onChange={(e) =>
                apply({
                  ...setting,
                  action: e.currentTarget.value as ToolAction,
                  rateLimit: rate,
                  reason,
                  clients,
                })
              }
            >
              {ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a === 'default' && posture
                    ? `default (${ACTION_LABELS[posture]})`
                    : ACTION_LABELS[a]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div role="gridcell">
        <Field label={`Rate limit for ${name}`} hiddenLabel>
          {(p) => (
            <input
              {...p}
              type="text"
              value={rate}
              placeholder="no limit"
              title="Calls allowed per window: 10/minute, 100/hour, 1000/day, or 5/60s (5 per 60 seconds). Empty: no limit."
              disabled={disabled || setting.action === 'hide'}
              spellCheck={false}
              aria-invalid={error !== undefined}
              aria-errormessage={error ? errorId : undefined}
              onChange={(e) => setRate(e.currentTarget.value)}
              onBlur={commitText}
              onKeyDown={onEnter}
            />
          )}
        </Field>
      </div>
      <div role="gridcell">
        <Field label={`Reason for ${name}`} hiddenLabel>
          {(p) => (
            <input
              {...p}
              type="text"
              value={reason}
              placeholder="shown when denied"
              disabled={disabled || setting.action === 'hide'}
              onChange={(e) => setReason(e.currentTarget.value)}
              onBlur={commitText}
              onKeyDown={onEnter}
            />
          )}
        </Field>
      </div>
      <div role="gridcell">
        <Field label={`Clients for ${name}`} hiddenLabel>
          {(p) => (
            <input
              {...p}
              type="text"
              value={clients}
              placeholder="all clients"
              title="Scope this rule to clients: their names as Activity shows them, separated by commas"
              disabled={disabled || setting.action === 'hide'}
              spellCheck={false}
              onChange={(e) => setClients(e.currentTarget.value)}
              onBlur={commitText}
              onKeyDown={onEnter}
            />
          )}
        </Field>
      </div>
      {grants.length > 0 ? (
        <div role="gridcell" className="tool-grants small" data-testid="tool-grants">
          {grants.map((g) => (
            <span key={g.id} className="tool-grant" data-testid="tool-grant">
              <span className="badge tone-info">granted</span>{' '}
              <span className="muted">passes without asking: {grantScopeText(g)}</span>{' '}
              <button
                type="button"
                className="btn btn-small"
                onClick={() => onRevoke(g.id)}
                aria-label={`Revoke the grant for ${name}`}
              >
                Revoke
              </button>
            </span>
          ))}
        </div>
      ) : null}
      {error ? (
        <p className="tool-error state-error small" id={errorId} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  )
})
