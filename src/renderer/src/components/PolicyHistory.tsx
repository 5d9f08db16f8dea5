/**
 * The saved versions of a server's policy (policy.history), newest first: each with its diff to
 * the policy saved now, and "Restore", which saves that version again (an undo that is itself a
 * version, so it can be undone too).
 */
import { useState } from 'react'
import type { ResultOf } from '../../../shared/contract/control-api'
import { DiffView } from './DiffView'
import { ErrorNotice } from './ErrorNotice'
import { useApi } from '../api-context'
import { errorMessage, formatDateTime } from '../format'
import { useResource } from '../hooks/use-resource'

/** Props: `generation` changes after each save (reloads the list); `onRestored` gets the restored text. */
export function PolicyHistory({
  server,
  generation,
  onRestored,
}: {
  server: string
  generation: number
  onRestored: (text: string) => void
}) {
  const api = useApi()
  const versions = useResource(() => api.policy.history({ server }), [api, server, generation])
  const [open, setOpen] = useState<{ id: string } & ResultOf<'policy.version'>>()
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState<string | undefined>(undefined)

  const show = async (id: string): Promise<void> => {
    if (open?.id === id) return setOpen(undefined)
    setError(undefined)
    try {
      setOpen({ id, ...(await api.policy.version({ server, id })) })
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  const restore = async (id: string): Promise<void> => {
    setBusy(id)
    setError(undefined)
    try {
      const { text } = await api.policy.version({ server, id })
      const r = await api.policy.set({ server, text })
      if (!r.ok)
        throw new Error(`that version is not valid now: ${r.errors[0]?.message ?? 'invalid'}`)
      setOpen(undefined)
      onRestored(text)
    } catch (err) {
      setError(`Not restored: ${errorMessage(err)}`)
    } finally {
      setBusy(undefined)
    }
  }

  const list = versions.data ?? []
  return (
    <section className="panel" aria-labelledby="history-title" data-testid="policy-history">
      <h3 id="history-title">Saved versions</h3>
      {error ? <ErrorNotice message={error} /> : null}
      {versions.error ? (
        <ErrorNotice message={versions.error} onRetry={versions.reload} />
      ) : list.length === 0 ? (
        <p className="small muted">None yet: each Save keeps a version here, to compare or undo.</p>
      ) : (
        <ul className="plain-list">
          {list.map((v, i) => (
            <li key={v.id} className="list-row" data-testid="policy-version">
              <span className="small">
                {formatDateTime(v.savedAt)}
                {i === 0 ? <span className="muted"> · saved now</span> : null}
                <span className="muted"> · {v.bytes} bytes</span>
              </span>
              <button
                type="button"
                className="btn btn-small"
                aria-expanded={open?.id === v.id}
                onClick={() => void show(v.id)}
              >
                {open?.id === v.id ? 'Hide changes' : 'Changes since'}
              </button>
              {i > 0 ? (
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={busy !== undefined}
                  onClick={() => void restore(v.id)}
                >
                  {busy === v.id ? 'Restoring…' : 'Restore'}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {open ? (
        open.diff === '' ? (
          <p className="small muted">This version is the policy saved now.</p>
        ) : (
          <DiffView diff={open.diff} label="Changes from this version to the saved policy" />
        )
      ) : null}
    </section>
  )
}
