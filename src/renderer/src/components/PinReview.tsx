/**
 * Tool pinning in Tools & policy: a banner for each server whose tools changed since they were
 * pinned (or appeared later), and, for the server shown, the same side-by-side diff as
 * `airlock tools diff`, with Accept per tool and for all.
 */
import { useState } from 'react'
import type { PinViewRow } from '../../../shared/contract/control-api'
import { definitionChanges, pinDate } from '../../../shared/tool-pins'
import { useApi } from '../api-context'
import { errorMessage, visibleText } from '../format'
import { useApiEvent } from '../hooks/use-api-event'
import { useResource } from '../hooks/use-resource'
import { PinDiff } from './PinDiff'

/** One banner per server with tools to review; the current server's banner holds the review. */
export function PinBanners({ current, onPick }: { current: string; onPick: (s: string) => void }) {
  const api = useApi()
  const summary = useResource(() => api.pins.summary(), [api])
  const settings = useResource(() => api.settings.get(), [api])
  useApiEvent('pins.changed', summary.reload)
  const list = summary.data ?? []
  if (list.length === 0) return null
  const mode = settings.data?.pinning ?? 'block'
  const consequence = (n: number): string =>
    mode === 'approve'
      ? `${n === 1 ? 'Its' : 'Their'} calls wait for your approval until you accept the change.`
      : mode === 'off'
        ? `Tool pinning is off (Settings), so ${n === 1 ? 'it runs' : 'they run'} as the server lists ${n === 1 ? 'it' : 'them'} now.`
        : `${n === 1 ? 'Its' : 'Their'} calls are refused until you accept the change.`
  return (
    <div className="pin-banners">
      {list.map((s) => (
        <section
          key={s.server}
          className="banner banner-warn banner-box pin-banner"
          role="alert"
          aria-label={`Changed tools of ${s.server}`}
          data-testid="pin-banner"
          data-server={s.server}
        >
          <p>
            {s.changed.length > 0 ? (
              <>
                <strong>{s.server}</strong> changed{' '}
                {s.changed.length === 1 ? 'a tool' : `${s.changed.length} tools`} since{' '}
                {s.changed.length === 1 ? 'it was' : 'they were'} pinned:{' '}
                <span className="mono">{s.changed.map(visibleText).join(', ')}</span>.{' '}
                {consequence(s.changed.length)}
              </>
            ) : null}
            {s.added.length > 0 ? (
              <>
                {s.changed.length > 0 ? ' ' : ''}
                <strong>{s.server}</strong> lists{' '}
                {s.added.length === 1 ? 'a new tool' : 'new tools'} (pinned on sight):{' '}
                <span className="mono">{s.added.map(visibleText).join(', ')}</span>.
              </>
            ) : null}
          </p>
          {s.server === current ? (
            <PinReview server={s.server} />
          ) : (
            <button type="button" className="btn" onClick={() => onPick(s.server)}>
              Review {s.server}
            </button>
          )}
        </section>
      ))}
    </div>
  )
}

/** The changed and new tools of one server, each with its diff and Accept. */
function PinReview({ server }: { server: string }) {
  const api = useApi()
  const pins = useResource(() => api.pins.list({ server }), [api, server])
  useApiEvent('pins.changed', (e) => {
    if (e.server === server) pins.reload()
  })
  const [busy, setBusy] = useState<string | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const review = (pins.data ?? []).filter((p) => p.state !== 'pinned')

  const accept = async (tool?: string): Promise<void> => {
    setBusy(tool ?? '*')
    setError(undefined)
    try {
      await api.pins.accept(tool === undefined ? { server } : { server, tool })
      pins.reload()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(undefined)
    }
  }

  if (pins.error) return <p className="state-error small">{pins.error}</p>
  return (
    <div className="pin-review" data-testid="pin-review">
      {review.map((p) => (
        <PinItem
          key={p.name}
          pin={p}
          busy={busy !== undefined}
          onAccept={() => void accept(p.name)}
        />
      ))}
      {review.length > 1 ? (
        <button
          type="button"
          className="btn"
          onClick={() => void accept()}
          disabled={busy !== undefined}
        >
          Accept all {review.length}
        </button>
      ) : null}
      {error ? (
        <p className="state-error small" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  )
}

function PinItem({
  pin,
  busy,
  onAccept,
}: {
  pin: PinViewRow
  busy: boolean
  onAccept: () => void
}) {
  const changes =
    pin.state === 'new'
      ? definitionChanges({ name: pin.name }, pin.pinned)
      : definitionChanges(pin.pinned, pin.current ?? pin.pinned)
  return (
    <article className="pin-item" data-testid="pin-item" data-tool={pin.name}>
      <header className="pin-item-head">
        <h4 className="mono">{visibleText(pin.name)}</h4>
        <span className="small muted">
          {pin.state === 'new'
            ? `new: first listed ${pinDate(pin.pinnedAt)}`
            : `changed: pinned ${pinDate(pin.pinnedAt)}, different since ${pinDate(pin.seenAt ?? '')}`}
        </span>
        <button
          type="button"
          className="btn btn-primary"
          onClick={onAccept}
          disabled={busy}
          aria-label={`Accept ${pin.name}`}
        >
          Accept
        </button>
      </header>
      <PinDiff
        changes={changes}
        before={pin.state === 'new' ? '(no earlier definition)' : 'Pinned'}
        after={pin.state === 'new' ? 'Listed' : 'Now'}
      />
    </article>
  )
}
