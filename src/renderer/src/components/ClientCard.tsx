/**
 * One detected MCP client: its config files and their servers — route, whether each is
 * protected, why not — with Protect (all, or one server), Re-protect for an entry the client
 * rewrote back (drift), and Restore. The actions only ask for a plan; the review comes next.
 */
import type { ReactNode } from 'react'
import type {
  ClientEntryView,
  ClientView,
  ProtectionView,
} from '../../../shared/contract/control-api'
import { ProtectionNote } from './ProtectionNote'

/** What an action button asks for. */
export interface PlanRequest {
  client: string
  action: 'wrap' | 'restore'
  server?: string
}

/** The key of a request (which button is busy). */
export function requestKey(r: PlanRequest): string {
  return `${r.client}\u0000${r.action}\u0000${r.server ?? ''}`
}

/** Props of a client card. */
export interface ClientCardProps {
  client: ClientView
  /** The key of the request being prepared, if any. */
  busy?: string
  onPlan: (request: PlanRequest) => void
  /** The protection of an Airlock server (by name), as the Servers screen says it. */
  protectionOf: (server: string) => ProtectionView | undefined
  /** Shown under the table (the review panel, a result, an error). */
  children?: ReactNode
}

function ProtectionBadge({ entry }: { entry: ClientEntryView }) {
  if (entry.protected)
    return (
      <span
        className="badge tone-info"
        data-testid="protected-badge"
        title="Its calls pass through Airlock. What Airlock does with them is the server's protection, beside this."
      >
        routed through Airlock
      </span>
    )
  if (entry.broken)
    return (
      <span
        className="badge tone-bad"
        data-testid="broken-badge"
        title="Wrapped, but its node or Airlock path is gone: the client reaches nothing. Repair rewrites it to the current Airlock."
      >
        ⚠ broken
      </span>
    )
  if (entry.drifted)
    return (
      <span
        className="badge tone-bad"
        data-testid="drift-badge"
        title="Airlock wrapped this entry and the client rewrote it back: it reaches the server directly"
      >
        ⚠ not protected
      </span>
    )
  return (
    <span className="badge tone-muted" data-testid="unprotected-badge">
      not protected
    </span>
  )
}

/** The card of one client. */
export function ClientCard({ client, busy, onPlan, protectionOf, children }: ClientCardProps) {
  const entries = client.files.flatMap((f) => f.entries)
  const canProtect = entries.some((e) => e.canProtect)
  const canRestore = entries.some((e) => e.canRestore)
  const drifted = entries.filter((e) => e.drifted).length
  const headingId = `client-${client.id}`
  const button = (request: PlanRequest, label: string, className = 'btn btn-small') => {
    const key = requestKey(request)
    return (
      <button
        type="button"
        className={className}
        disabled={busy !== undefined}
        onClick={() => onPlan(request)}
        aria-label={
          request.server
            ? `${label} (${request.server} in ${client.name})`
            : `${label} (${client.name})`
        }
      >
        {busy === key ? 'Preparing…' : label}
      </button>
    )
  }
  return (
    <article
      className="card client"
      aria-labelledby={headingId}
      data-testid="client-card"
      data-client={client.id}
    >
      <header className="server-head">
        <h3 id={headingId}>{client.name}</h3>
        <span className="small muted mono">{client.id}</span>
        {drifted > 0 ? (
          <span className="badge tone-bad">{drifted} rewritten by the client</span>
        ) : null}
        <div className="actions client-actions">
          {canProtect
            ? button({ client: client.id, action: 'wrap' }, 'Protect', 'btn btn-small btn-primary')
            : null}
          {canRestore ? button({ client: client.id, action: 'restore' }, 'Restore') : null}
        </div>
      </header>
      {client.files.map((f) => (
        <section key={f.file} className="client-file" aria-label={f.file}>
          <p className="small">
            <span className="mono file-path" title={f.file}>
              {f.file}
            </span>{' '}
            <span className="muted">
              {f.scope === 'project' ? `project${f.project ? ` ${f.project}` : ''}` : 'user'}
            </span>
          </p>
          {f.error ? (
            <p className="state-error small" role="alert">
              {f.error}
            </p>
          ) : f.entries.length === 0 ? (
            <p className="small muted">No MCP servers in this file.</p>
          ) : (
            <table className="entry-table">
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">Route</th>
                  <th scope="col">Through Airlock</th>
                  <th scope="col">Runs</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {f.entries.map((e) => (
                  <tr
                    key={`${e.scope}\u0000${e.project ?? ''}\u0000${e.name}`}
                    data-testid="client-entry"
                    data-server={e.name}
                    data-protected={e.protected}
                    data-drifted={e.drifted}
                  >
                    <th scope="row" className="entry-name">
                      {e.name}
                      {e.scope === 'local' && e.project ? (
                        <span className="small muted"> ({e.project})</span>
                      ) : null}
                    </th>
                    <td>
                      <span className="badge badge-muted">{e.route}</span>
                    </td>
                    <td>
                      <ProtectionBadge entry={e} />
                      {e.protected ? (
                        <>
                          {' '}
                          <ProtectionNote
                            protection={protectionOf(e.airlockServer ?? e.name)}
                            full={false}
                          />
                        </>
                      ) : null}
                    </td>
                    <td className="entry-target">
                      <span className="mono small ellipsis" title={e.target}>
                        {e.target}
                      </span>
                      {e.protected && e.airlockServer && e.airlockServer !== e.name ? (
                        <span className="small muted">as {e.airlockServer}</span>
                      ) : null}
                      {e.protected ? (
                        <span className="small muted" data-testid="entry-protection">
                          {protectionOf(e.airlockServer ?? e.name)?.summary}
                        </span>
                      ) : null}
                      {e.problem && !e.protected ? (
                        <span className="small muted">{e.problem}</span>
                      ) : null}
                      {e.problem && e.protected ? (
                        <span className="small text-bad">{e.problem}</span>
                      ) : null}
                    </td>
                    <td className="entry-actions">
                      {e.drifted || e.broken
                        ? button(
                            { client: client.id, action: 'wrap', server: e.name },
                            e.broken ? 'Repair' : 'Re-protect',
                            'btn btn-small btn-primary',
                          )
                        : e.canProtect
                          ? button(
                              { client: client.id, action: 'wrap', server: e.name },
                              'Protect this server',
                            )
                          : e.canRestore
                            ? button(
                                { client: client.id, action: 'restore', server: e.name },
                                'Restore',
                              )
                            : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
      {children}
    </article>
  )
}
