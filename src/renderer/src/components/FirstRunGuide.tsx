/**
 * The first-run guide, shown while nothing is configured: three steps — add a server (paste an
 * `mcpServers` block, or import from a client), protect clients, review the guarded tools.
 */
import { useState } from 'react'
import type { ScreenId } from './Header'
import { PasteServers } from './PasteServers'

/** The guide; `servers` and `protectedEntries` mark steps done; `onNavigate` opens a screen. */
export function FirstRunGuide({
  servers,
  protectedEntries,
  onNavigate,
}: {
  servers: number
  protectedEntries: number
  onNavigate: (screen: ScreenId) => void
}) {
  const [pasting, setPasting] = useState(false)
  const steps = [servers > 0, protectedEntries > 0]
  return (
    <section className="card guide" aria-labelledby="guide-title" data-testid="first-run-guide">
      <h2 id="guide-title">Set up Airlock in three steps</h2>
      <ol className="guide-steps">
        <li data-done={steps[0]}>
          <strong>Add a server, or import one from a client.</strong>{' '}
          <span className="muted">
            Paste the <span className="mono">mcpServers</span> block you would give a client, or let
            Airlock take over the servers a client already has.
          </span>
          <div className="actions">
            <button type="button" className="btn btn-primary" onClick={() => setPasting(true)}>
              Paste mcpServers
            </button>
            <button type="button" className="btn" onClick={() => onNavigate('clients')}>
              Import from a client
            </button>
            <button type="button" className="btn" onClick={() => onNavigate('servers')}>
              Add by hand
            </button>
          </div>
          {pasting ? (
            <PasteServers onAdded={() => setPasting(false)} onCancel={() => setPasting(false)} />
          ) : null}
        </li>
        <li data-done={steps[1]}>
          <strong>Protect your clients.</strong>{' '}
          <span className="muted">
            Claude Desktop, Cursor, VS Code… then reach their servers through Airlock. You see the
            change to each file before it is written.
          </span>
          <div className="actions">
            <button type="button" className="btn" onClick={() => onNavigate('clients')}>
              Open Clients
            </button>
          </div>
        </li>
        <li>
          <strong>Review the guarded tools.</strong>{' '}
          <span className="muted">
            Risky tools ask you first; choose what is allowed, asked, denied or hidden.
          </span>
          <div className="actions">
            <button type="button" className="btn" onClick={() => onNavigate('policy')}>
              Open Tools &amp; policy
            </button>
          </div>
        </li>
      </ol>
    </section>
  )
}
