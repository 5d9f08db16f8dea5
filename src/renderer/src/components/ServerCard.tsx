/**
 * One configured server: its command, its status (running, idle, failing; sessions now, last
 * start, last exit with its time, process ids, tool count, the clients that route to it), the
 * last lines of its stderr (server-written: shown as inert text), and actions (restart, enable,
 * edit, discover, remove).
 */
import { useState } from 'react'
import type { ServerView, ToolView } from '../../../shared/contract/control-api'
import { ProtectionNote } from './ProtectionNote'
import { RiskBadge } from './RiskBadge'
import { useApi } from '../api-context'
import { errorMessage, formatDateTime, formatTime, visibleText } from '../format'
import { isHttpUrl } from '../../../shared/contract/config'

const STATUS: Record<ServerView['status'], { label: string; tone: string; hint: string }> = {
  running: { label: 'running', tone: 'tone-good', hint: 'a process of it runs now' },
  idle: {
    label: 'not running',
    tone: 'tone-muted',
    hint: 'it starts when a client connects',
  },
  failing: {
    label: 'failing',
    tone: 'tone-bad',
    hint: 'its last process exited on its own or could not start',
  },
  disabled: { label: 'disabled', tone: 'tone-muted', hint: 'clients cannot reach it' },
}

/** The host (and port) of a remote server's URL, made visible; the URL itself when unparsable. */
function hostOf(url: string): string {
  try {
    return visibleText(new URL(url).host)
  } catch {
    return visibleText(url)
  }
}

function commandLine(view: ServerView): string {
  if (view.config.command === undefined) return visibleText(view.config.url ?? '')
  return [view.config.command, ...view.config.args]
    .map((w) => (/^[\w@%+=:,./~-]+$/.test(w) ? w : JSON.stringify(w)))
    .join(' ')
}

/** How a remote server authenticates, in a few words. */
function authText(view: ServerView): string {
  switch (view.auth) {
    case 'headers':
      return `headers (${(view.config.secretHeaders ?? []).join(', ')} in the secret store)`
    case 'oauth':
      return view.signIn === 'signed-in'
        ? 'OAuth · signed in'
        : view.signIn === 'signing-in'
          ? 'OAuth · signing in'
          : 'OAuth · needs sign-in'
    default:
      return 'none'
  }
}

/** A remote server without a credential of its own may sign in with OAuth (the server decides). */
function canSignIn(view: ServerView): boolean {
  return view.config.url !== undefined && view.auth !== 'headers' && view.signIn !== 'signed-in'
}

/** The card; `onEdit` opens the form, `onChanged` asks the list to refresh. */
export function ServerCard({
  view,
  routedFrom = [],
  onEdit,
  onChanged,
}: {
  view: ServerView
  /** Clients whose config routes to this server through Airlock (display names). */
  routedFrom?: readonly string[]
  onEdit: () => void
  onChanged: () => void
}) {
  const api = useApi()
  const { config } = view
  const [busy, setBusy] = useState<string | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [tools, setTools] = useState<ToolView[] | undefined>(undefined)
  const [confirmRemove, setConfirmRemove] = useState(false)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const status = STATUS[view.status]
  const clients = [...new Set([...routedFrom, ...view.sessionClients])]

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
        <span
          className={`badge ${status.tone}`}
          title={status.hint}
          data-testid="server-status"
          data-status={view.status}
        >
          {status.label}
        </span>
        <span className="small muted" data-testid="server-sessions">
          {view.sessions} {view.sessions === 1 ? 'session' : 'sessions'} now
        </span>
        {view.toolCount !== undefined ? (
          <span className="small muted" data-testid="server-tools">
            {view.toolCount} {view.toolCount === 1 ? 'tool' : 'tools'}
          </span>
        ) : null}
      </header>
      <p className="mono small command" title={config.url !== undefined ? 'URL' : 'Command'}>
        {commandLine(view)}
      </p>
      {config.cwd ? <p className="small muted">in {config.cwd}</p> : null}
      <p className="small">
        <ProtectionNote protection={view.protection} />
      </p>
      {config.url !== undefined ? (
        <p
          className="small muted"
          data-testid="server-transport"
          data-transport={view.transport ?? ''}
        >
          remote:{' '}
          {view.transport === 'sse'
            ? 'SSE (HTTP+SSE)'
            : view.transport === 'streamable-http'
              ? 'Streamable HTTP'
              : 'transport not known until it connects'}
          {' · '}
          <span className="mono" data-testid="server-host" title={visibleText(config.url)}>
            {hostOf(config.url)}
          </span>
          {' · auth: '}
          <span data-testid="server-auth" data-sign-in={view.signIn ?? ''}>
            {authText(view)}
          </span>
        </p>
      ) : null}
      {view.signIn === 'needs-sign-in' || view.signIn === 'signing-in' ? (
        <p className="small" data-testid="server-sign-in">
          {view.signIn === 'needs-sign-in' ? (
            <span className="tone-bad">Its agents are refused until you sign in. </span>
          ) : (
            <span className="tone-bad">
              Its agents are refused until the sign-in is finished in a browser.{' '}
            </span>
          )}
          {view.signInUrl !== undefined && isHttpUrl(view.signInUrl) ? (
            <a
              href={view.signInUrl}
              target="_blank"
              rel="noopener noreferrer"
              title={visibleText(view.signInUrl)}
              data-testid="server-sign-in-link"
            >
              Open the sign-in page
            </a>
          ) : null}
        </p>
      ) : null}
      {config.secretEnv.length > 0 ? (
        <p className="small muted">secret env: {config.secretEnv.join(', ')}</p>
      ) : null}
      <dl className="facts server-facts">
        <dt>Last start</dt>
        <dd data-testid="server-last-start">
          {view.lastStartAt !== undefined ? (
            <span title={formatDateTime(view.lastStartAt)}>{formatTime(view.lastStartAt)}</span>
          ) : (
            <span className="muted">not since Airlock started</span>
          )}
          {view.pids.length > 0 ? (
            <span className="muted small" data-testid="server-pids">
              {' '}
              · process {view.pids.join(', ')}
            </span>
          ) : null}
        </dd>
        <dt>Last exit</dt>
        <dd data-testid="server-last-exit">
          {view.lastExit ? (
            <>
              {visibleText(view.lastExit.reason)}{' '}
              <span className="muted" title={formatDateTime(view.lastExit.at)}>
                at {formatTime(view.lastExit.at)}
              </span>
              {view.lastExit.expected ? (
                <span className="muted small"> (ended by Airlock)</span>
              ) : null}
            </>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        <dt>Clients</dt>
        <dd data-testid="server-clients">
          {clients.length > 0 ? (
            clients.join(', ')
          ) : (
            <span className="muted">
              none yet: protect a client on the Clients screen, or run{' '}
              <span className="mono">airlock connect {config.name}</span>
            </span>
          )}
        </dd>
      </dl>
      {view.status === 'failing' && view.lastError ? (
        <p className="state-error small" role="alert">
          {visibleText(view.lastError)}
          <br />
          Check the command with Edit, then Restart.
        </p>
      ) : null}
      {view.stderrTail ? (
        <details className="stderr" data-testid="server-stderr">
          <summary className="small">Last lines of its stderr</summary>
          <pre className="code">{visibleText(view.stderrTail)}</pre>
        </details>
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
      {notice ? (
        <p className="small muted" role="status" data-testid="server-notice">
          {notice}
        </p>
      ) : null}
      <div className="actions">
        <button
          type="button"
          className="btn"
          disabled={busy !== undefined || !config.enabled}
          onClick={() =>
            void run('restart', async () => {
              setNotice(undefined)
              const r = await api.servers.restart({ name: config.name })
              setNotice(r.message)
              onChanged()
            })
          }
        >
          {busy === 'restart' ? 'Restarting…' : 'Restart'}
        </button>
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
        {canSignIn(view) ? (
          <button
            type="button"
            className="btn"
            disabled={busy !== undefined || !config.enabled}
            data-testid="server-sign-in-button"
            onClick={() =>
              void run('sign-in', async () => {
                setNotice(undefined)
                // The desktop app opens the browser; the web UI shows the link (below the line).
                const r = await api.servers.login({ name: config.name, open: true })
                setNotice(r.status === 'signed-in' ? r.message : undefined)
                onChanged()
              })
            }
          >
            {busy === 'sign-in' ? 'Starting sign-in…' : 'Sign in'}
          </button>
        ) : null}
        {view.signIn === 'signed-in' ? (
          <button
            type="button"
            className="btn"
            disabled={busy !== undefined}
            onClick={() =>
              void run('sign-out', async () => {
                await api.servers.logout({ name: config.name })
                onChanged()
              })
            }
          >
            Sign out
          </button>
        ) : null}
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
