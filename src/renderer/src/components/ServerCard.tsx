/** One configured server: its command, status, and actions (enable, edit, discover, remove). */
import { useState } from 'react'
import type { ServerView, ToolView } from '../../../shared/contract/control-api'
import { ProtectionNote } from './ProtectionNote'
import { RiskBadge } from './RiskBadge'
import { useApi } from '../api-context'
import { errorMessage } from '../format'

function commandLine(view: ServerView): string {
  if (view.config.command === undefined) return view.config.url ?? ''
  return [view.config.command, ...view.config.args]
    .map((w) => (/^[\w@%+=:,./~-]+$/.test(w) ? w : JSON.stringify(w)))
    .join(' ')
}

/** The card; `onEdit` opens the form, `onChanged` asks the list to refresh. */
export function ServerCard({
  view,
  onEdit,
  onChanged,
}: {
  view: ServerView
  onEdit: () => void
  onChanged: () => void
}) {
  const api = useApi()
  const { config } = view
  const [busy, setBusy] = useState<string | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [tools, setTools] = useState<ToolView[] | undefined>(undefined)
  const [confirmRemove, setConfirmRemove] = useState(false)

  const run = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    setBusy(what)
    setError(undefined)
    try {
      await action()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(undefined)
    }
  }

  return (
    <article
      className={`card server${config.enabled ? '' : ' disabled'}`}
      aria-labelledby={`server-${config.name}`}
      data-testid="server-card"
      data-server={config.name}
    >
      <header className="server-head">
        <h3 id={`server-${config.name}`}>{config.name}</h3>
        <span className={`badge ${config.enabled ? 'tone-good' : 'tone-muted'}`}>
          {config.enabled ? 'enabled' : 'disabled'}
        </span>
        <span className="small muted" data-testid="server-sessions">
          {view.sessions} {view.sessions === 1 ? 'session' : 'sessions'}
        </span>
      </header>
      <p className="mono small command" title="Command">
        {commandLine(view)}
      </p>
      {config.cwd ? <p className="small muted">in {config.cwd}</p> : null}
      <p className="small">
        <ProtectionNote protection={view.protection} />
      </p>
      {config.secretEnv.length > 0 ? (
        <p className="small muted">secret env: {config.secretEnv.join(', ')}</p>
      ) : null}
      {view.lastError ? (
        <p className="state-error small" role="alert">
          Last error: {view.lastError}
        </p>
      ) : null}
      {view.policyError ? (
        <p className="state-error small" role="alert">
          Policy: {view.policyError}
        </p>
      ) : null}
      {error ? (
        <p className="state-error small" role="alert">
          {error}
        </p>
      ) : null}
      <div className="actions">
        <button
          type="button"
          className="btn"
          disabled={busy !== undefined}
          onClick={() =>
            void run('enable', async () => {
              await api.servers.setEnabled({ name: config.name, enabled: !config.enabled })
              onChanged()
            })
          }
        >
          {config.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="btn" onClick={onEdit} disabled={busy !== undefined}>
          Edit
        </button>
        <button
          type="button"
          className="btn"
          disabled={busy !== undefined}
          onClick={() =>
            void run('discover', async () =>
              setTools(await api.tools.list({ server: config.name, discover: true })),
            )
          }
        >
          {busy === 'discover' ? 'Discovering…' : 'Discover tools'}
        </button>
        {confirmRemove ? (
          <>
            <button
              type="button"
              className="btn btn-danger"
              disabled={busy !== undefined}
              onClick={() =>
                void run('remove', async () => {
                  await api.servers.remove({ name: config.name })
                  onChanged()
                })
              }
            >
              Confirm remove
            </button>
            <button type="button" className="btn" onClick={() => setConfirmRemove(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            className="btn"
            onClick={() => setConfirmRemove(true)}
            disabled={busy !== undefined}
          >
            Remove…
          </button>
        )}
      </div>
      {tools ? (
        <div className="discovered" data-testid="discovered-tools">
          <p className="small muted">
            {tools.length === 0 ? 'The server offers no tools.' : `${tools.length} tools:`}
          </p>
          <ul className="tool-chips">
            {tools.map((t) => (
              <li key={t.name} title={t.description}>
                <span className="mono">{t.name}</span> <RiskBadge risk={t.risk} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </article>
  )
}
