/**
 * One pending approval: who wants to run what where, the risk and rule, the arguments (an
 * escaped excerpt: the agent wrote them), a countdown to the automatic deny, and the answers.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import type { PendingApprovalView, ResultOf } from '../../../shared/contract/control-api'
import { ALWAYS_SCOPE, answerLabel, answersFor } from '../../../shared/approval-answers'
import { RiskBadge } from './RiskBadge'
import { pinDate } from '../../../shared/tool-pins'
import { PinDiff } from './PinDiff'
import { useApi } from '../api-context'
import { clientDisplayName } from '../client-names'
import { errorMessage, secondsLeft, visibleText } from '../format'
import { useResource } from '../hooks/use-resource'

type Answer = 'allow_once' | 'allow_session' | 'allow_hour' | 'allow_always' | 'deny'

/** The answers, Deny first (it has the focus, as in the native dialog); `key` answers from the keyboard. */
const BUTTONS: readonly {
  answer: Answer
  label: string
  key: string
  className: string
  hint: string
}[] = [
  {
    answer: 'deny',
    label: answerLabel('deny'),
    key: 'D',
    className: 'btn btn-danger',
    hint: 'Refuse this call; the agent gets an error. Keys: D or Esc.',
  },
  {
    answer: 'allow_once',
    label: answerLabel('allow_once'),
    key: 'A',
    className: 'btn',
    hint: 'Let this call through. Key: A.',
  },
  {
    answer: 'allow_session',
    label: answerLabel('allow_session'),
    key: 'S',
    className: 'btn',
    hint: 'Let calls of this tool through until this agent session ends. Key: S.',
  },
  {
    answer: 'allow_hour',
    label: answerLabel('allow_hour'),
    key: 'H',
    className: 'btn',
    hint: 'Let calls of this tool through, with any arguments, from every session, for one hour; the grant then expires on its own. Key: H.',
  },
  {
    answer: 'allow_always',
    label: answerLabel('allow_always'),
    key: '',
    className: 'btn',
    hint: 'Always let calls of this tool through, with any arguments, from every client (asks to confirm; a grant you can revoke).',
  },
]

const KEYS: Readonly<Record<string, Answer>> = {
  a: 'allow_once',
  s: 'allow_session',
  h: 'allow_hour',
  d: 'deny',
  escape: 'deny',
}

/** A value longer than this (or with line breaks) is folded behind "show all". */
const FOLD_AT = 160

/** The arguments as key/value rows when the excerpt is a JSON object, else undefined. */
function argRows(excerpt: string): [string, string][] | undefined {
  try {
    const v: unknown = JSON.parse(excerpt)
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
    return Object.entries(v).map(([k, x]) => [
      k,
      typeof x === 'string' ? x : JSON.stringify(x, null, 2),
    ])
  } catch {
    return undefined
  }
}

/**
 * What a server's request says to read, unfolded: a sampling request's message texts, or an
 * elicitation's message. Undefined when there is none (or the excerpt was cut).
 */
function serverAsks(excerpt: string): string | undefined {
  try {
    const v: unknown = JSON.parse(excerpt)
    if (v === null || typeof v !== 'object') return undefined
    const p = v as { messages?: unknown; message?: unknown }
    if (typeof p.message === 'string') return p.message
    if (!Array.isArray(p.messages)) return undefined
    const texts = p.messages.flatMap((m: unknown) => {
      const c = (m as { role?: unknown; content?: unknown } | null)?.content
      const role = String((m as { role?: unknown }).role ?? '')
      const parts = Array.isArray(c) ? c : [c]
      return parts
        .filter((x): x is { text: string } => typeof (x as { text?: unknown })?.text === 'string')
        .map((x) => `${role}: ${x.text}`)
    })
    return texts.length ? texts.join('\n') : undefined
  } catch {
    return undefined
  }
}

/** One argument: a long value shows its start and a "show all" button. */
function ArgValue({ value }: { value: string }) {
  const [open, setOpen] = useState(false)
  const long = value.length > FOLD_AT || value.includes('\n')
  const shown = long && !open ? `${value.slice(0, FOLD_AT).split('\n')[0]}…` : value
  return (
    <>
      <span className="arg-value">{visibleText(shown)}</span>
      {long ? (
        <button type="button" className="link small" onClick={() => setOpen(!open)}>
          {open ? 'fold' : `show all (${value.length} characters)`}
        </button>
      ) : null}
    </>
  )
}

/** Is the element one the user types into (keys there are text, not answers)? */
function isTyping(el: Element | null): boolean {
  return (
    el instanceof HTMLInputElement ||
    el instanceof HTMLTextAreaElement ||
    el instanceof HTMLSelectElement ||
    (el instanceof HTMLElement && el.isContentEditable)
  )
}

/**
 * A card for `req`; `now` drives the countdown; `onDismiss` removes a card answered too late;
 * `compact` for the dock; `focus` puts the focus on Deny when the card appears (unless the user is
 * typing elsewhere); `onDenySession` denies every pending request of this agent session.
 */
export function ApprovalCard({
  req,
  now,
  onDismiss,
  compact = false,
  focus = false,
  sessionCount = 1,
  onDenySession,
}: {
  req: PendingApprovalView
  now: number
  onDismiss: (id: string) => void
  compact?: boolean
  focus?: boolean
  sessionCount?: number
  onDenySession?: (session: string) => void
}) {
  const api = useApi()
  const denyRef = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (focus && !isTyping(document.activeElement)) denyRef.current?.focus()
  }, [focus])
  const tools = useResource(() => api.tools.list({ server: req.server }), [api, req.server])
  const description = tools.data?.find((t) => t.name === req.tool)?.description
  const rows = useMemo(() => argRows(req.argsExcerpt), [req.argsExcerpt])
  const asks = useMemo(
    () => (req.serverRequest ? serverAsks(req.argsExcerpt) : undefined),
    [req.serverRequest, req.argsExcerpt],
  )
  const [busy, setBusy] = useState<Answer | undefined>(undefined)
  const [result, setResult] = useState<ResultOf<'approvals.decide'> | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  // "Always" is a considered act: it asks to confirm, stating its scope.
  const [confirmAlways, setConfirmAlways] = useState(false)
  // "Deny with a message": the text the agent is told (undefined: the field is closed).
  const [denyMessage, setDenyMessage] = useState<string | undefined>(undefined)
  const left = secondsLeft(req.deadline, now)
  const total = Math.max(1, req.deadline - req.requestedAt)
  const fraction = Math.max(0, Math.min(1, (req.deadline - now) / total))
  const expired = left === 0

  const decide = async (answer: Answer, message?: string): Promise<void> => {
    setBusy(answer)
    setError(undefined)
    try {
      setResult(
        await api.approvals.decide(
          message === undefined ? { id: req.id, answer } : { id: req.id, answer, message },
        ),
      )
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(undefined)
    }
  }

  // A request the server sends the client is allowed once or denied: no grant applies.
  const offered = answersFor(req).map((a) => a.answer)
  const buttons = BUTTONS.filter((b) => offered.includes(b.answer))

  const onKeyDown = (e: KeyboardEvent<HTMLElement>): void => {
    if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target as Element)) return
    const answer = KEYS[e.key.toLowerCase()]
    if (
      answer === undefined ||
      !offered.includes(answer) ||
      busy !== undefined ||
      result !== undefined ||
      confirmAlways ||
      denyMessage !== undefined
    )
      return
    e.preventDefault()
    e.stopPropagation()
    void decide(answer)
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
      onKeyDown={onKeyDown}
    >
      <header className="approval-head">
        {req.serverRequest ? (
          <h3 id={titleId} data-testid="approval-server-request">
            <span className="strong">{visibleText(req.server)}</span> sends{' '}
            <span className="who" title={req.client}>
              {visibleText(clientDisplayName(req.client))}
            </span>{' '}
            a {req.serverRequest} request (<span className="mono">{visibleText(req.tool)}</span>)
          </h3>
        ) : (
          <h3 id={titleId}>
            <span className="who" title={req.client}>
              {visibleText(clientDisplayName(req.client))}
            </span>{' '}
            wants to run <span className="mono strong">{req.tool}</span> on{' '}
            <span className="strong">{req.server}</span>
          </h3>
        )}
        <RiskBadge risk={req.risk} />
      </header>
      {description ? (
        <p className="small tool-description" data-testid="approval-description">
          {visibleText(description)}
        </p>
      ) : null}
      <p className="small muted" data-testid="approval-why">
        Asked because{' '}
        {reason
          ? visibleText(reason)
          : req.rule
            ? `the policy rule “${visibleText(req.rule)}” requires a person's approval`
            : "the policy requires a person's approval for this tool"}
        .
      </p>
      {req.pin ? (
        <div className="approval-pin" data-testid="approval-pin">
          <p className="small strong">
            This tool changed since it was pinned on {pinDate(req.pin.pinnedAt)}. “Always” accepts
            the new definition.
          </p>
          <PinDiff changes={req.pin.changes} />
        </div>
      ) : null}
      {asks !== undefined ? (
        <pre className="code args" aria-label="What the server asks" data-testid="approval-asks">
          {visibleText(asks)}
        </pre>
      ) : null}
      {rows ? (
        rows.length === 0 ? (
          <p className="small muted">No arguments.</p>
        ) : (
          <dl
            className="args-table"
            aria-label={req.serverRequest ? 'What the server asks' : 'Arguments'}
            data-testid="approval-args"
          >
            {rows.map(([k, v]) => (
              <div key={k} className="arg-row">
                <dt className="mono">{visibleText(k)}</dt>
                <dd className="mono">
                  <ArgValue value={v} />
                </dd>
              </div>
            ))}
          </dl>
        )
      ) : (
        <pre className="code args" aria-label="Arguments" data-testid="approval-args">
          {visibleText(req.argsExcerpt)}
        </pre>
      )}
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
          {buttons.map((b) => (
            <button
              key={b.answer}
              ref={b.answer === 'deny' ? denyRef : undefined}
              type="button"
              className={b.className}
              title={b.hint}
              aria-keyshortcuts={b.answer === 'deny' ? 'D Escape' : b.key || undefined}
              disabled={
                busy !== undefined || result === 'ok' || confirmAlways || denyMessage !== undefined
              }
              onClick={() =>
                b.answer === 'allow_always' ? setConfirmAlways(true) : void decide(b.answer)
              }
              data-answer={b.answer}
            >
              {busy === b.answer ? '…' : b.label}
              {b.key ? (
                <kbd className="key-hint">{b.answer === 'deny' ? 'D/Esc' : b.key}</kbd>
              ) : null}
            </button>
          ))}
          <button
            type="button"
            className="btn btn-small"
            title="Deny, and tell the agent why or what to do instead: it reads your words in its error."
            disabled={busy !== undefined || result === 'ok' || confirmAlways}
            aria-expanded={denyMessage !== undefined}
            onClick={() => setDenyMessage(denyMessage === undefined ? '' : undefined)}
            data-testid="deny-with-message"
          >
            Deny with a message…
          </button>
          {onDenySession && sessionCount > 1 ? (
            <button
              type="button"
              className="btn btn-small"
              disabled={busy !== undefined || result === 'ok'}
              onClick={() => onDenySession(req.session)}
              data-testid="deny-session"
            >
              Deny all {sessionCount} from this session
            </button>
          ) : null}
        </div>
      )}
      {denyMessage !== undefined && result === undefined ? (
        <form
          className="deny-message small"
          data-testid="deny-message"
          onSubmit={(e) => {
            e.preventDefault()
            void decide('deny', denyMessage)
          }}
        >
          <label>
            Message to the agent (it reads this in its error)
            <input
              type="text"
              value={denyMessage}
              maxLength={500}
              autoFocus
              placeholder="e.g. Use the staging database instead"
              onChange={(e) => setDenyMessage(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  e.preventDefault()
                  e.stopPropagation()
                  setDenyMessage(undefined)
                }
              }}
            />
          </label>{' '}
          <button type="submit" className="btn btn-danger btn-small" disabled={busy !== undefined}>
            {busy === 'deny' ? '…' : 'Deny and send'}
          </button>{' '}
          <button
            type="button"
            className="btn btn-small"
            disabled={busy !== undefined}
            onClick={() => setDenyMessage(undefined)}
          >
            Cancel
          </button>
        </form>
      ) : null}
      {confirmAlways && result === undefined ? (
        <div
          className="confirm-always small"
          role="alertdialog"
          aria-label="Confirm Always"
          data-testid="confirm-always"
        >
          <p>
            Always allow <span className="mono strong">{req.tool}</span> on{' '}
            <span className="strong">{req.server}</span>: {ALWAYS_SCOPE} (Tools &amp; policy).
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
