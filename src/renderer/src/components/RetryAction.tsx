/**
 * "Allow the retry": a call denied because nobody answered in time (or no approver was open) can
 * be allowed late, within the window the agent was told; its identical retry then passes once,
 * without asking. After the allow, the row says who allowed it.
 */
import { memo, type MouseEvent } from 'react'
import type { CallRow } from '../../../shared/contract/control-api'
import { formatTime } from '../format'

/** Props: `onAllow` asks the gateway (errors are shown by the screen). */
export interface RetryActionProps {
  row: Pick<CallRow, 'callId' | 'tool' | 'retry'>
  now: number
  busy: boolean
  onAllow: (callId: string) => void
}

/** The button while the window is open, "retry allowed" after; nothing otherwise. */
export const RetryAction = memo(function RetryAction({
  row,
  now,
  busy,
  onAllow,
}: RetryActionProps) {
  const retry = row.retry
  if (!retry || retry.until <= now) return null
  if (retry.allowedBy !== undefined)
    return (
      <span
        className="badge tone-info"
        data-testid="retry-allowed"
        title={`Allowed by ${retry.allowedBy}: the agent's identical retry passes once, until ${formatTime(retry.until)}`}
      >
        retry allowed
      </span>
    )
  const click = (e: MouseEvent<HTMLButtonElement>): void => {
    e.stopPropagation()
    onAllow(row.callId)
  }
  return (
    <button
      type="button"
      className="btn btn-small"
      data-testid="allow-retry"
      disabled={busy}
      onClick={click}
      title={`Nobody answered in time. Allow the agent's identical retry of ${row.tool} to pass once, without asking (possible until ${formatTime(retry.until)}).`}
    >
      Allow the retry
    </button>
  )
})
