/**
 * Servers: the configured MCP servers, their status, and forms to add or edit one: a command
 * Airlock starts, or a remote server by URL.
 */
import { useMemo, useState } from 'react'
import { EmptyState } from '../components/EmptyState'
import { ErrorNotice } from '../components/ErrorNotice'
import { Loading } from '../components/Loading'
import { ServerCard } from '../components/ServerCard'
import { ServerForm } from '../components/ServerForm'
import { RemoteServerForm } from '../components/RemoteServerForm'
import { PasteServers } from '../components/PasteServers'
import { useApi } from '../api-context'
import { useApiEvent } from '../hooks/use-api-event'
import { useResource } from '../hooks/use-resource'

/** The Servers screen; it follows `servers.changed` and `sessions.changed`. */
export function ServersScreen() {
  const api = useApi()
  const servers = useResource(() => api.servers.list(), [api])
  const [editing, setEditing] = useState<string | undefined>(undefined)
  const [adding, setAdding] = useState<'command' | 'url' | undefined>(undefined)
  const [pasting, setPasting] = useState(false)
  useApiEvent('servers.changed', servers.reload)
  useApiEvent('sessions.changed', servers.reload)
  // Which clients route to each server: protected entries in their config files.
  const clients = useResource(() => api.clients.list(), [api])
  useApiEvent('clients.changed', clients.reload)
  const routes = useMemo(() => {
    const by = new Map<string, string[]>()
    for (const c of clients.data ?? [])
      for (const f of c.files)
        for (const e of f.entries) {
          if (!e.protected || e.airlockServer === undefined) continue
          const names = by.get(e.airlockServer) ?? []
          if (!names.includes(c.name)) names.push(c.name)
          by.set(e.airlockServer, names)
        }
    return by
  }, [clients.data])

  const list = servers.data ?? []
  return (
    <div className="screen" data-testid="screen-servers">
      <div className="screen-head">
        <h2>Servers</h2>
        <div className="actions">
          <button type="button" className="btn" onClick={() => setPasting(true)} disabled={pasting}>
            Paste mcpServers
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => setAdding('url')}
            disabled={adding === 'url'}
          >
            Add by URL
          </button>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => setAdding('command')}
            disabled={adding === 'command'}
          >
            Add server
          </button>
        </div>
      </div>
      {pasting ? (
        <PasteServers
          onAdded={() => {
            setPasting(false)
            servers.reload()
          }}
          onCancel={() => setPasting(false)}
        />
      ) : null}
      {adding === 'command' ? (
        <ServerForm
          onDone={() => {
            setAdding(undefined)
            servers.reload()
          }}
          onCancel={() => setAdding(undefined)}
        />
      ) : adding === 'url' ? (
        <RemoteServerForm
          taken={list.map((v) => v.config.name)}
          onDone={() => {
            setAdding(undefined)
            servers.reload()
          }}
          onCancel={() => setAdding(undefined)}
        />
      ) : null}
      {servers.error ? (
        <ErrorNotice message={servers.error} onRetry={servers.reload} />
      ) : servers.loading && !servers.data ? (
        <Loading what="servers" />
      ) : list.length === 0 && adding === undefined ? (
        <EmptyState title="No servers yet." testId="servers-empty">
          Add the MCP servers your agents use; agents then reach them through{' '}
          <span className="mono">airlock connect &lt;name&gt;</span>.
        </EmptyState>
      ) : (
        <div className="card-list">
          {list.map((view) =>
            editing === view.config.name && view.config.url !== undefined ? (
              <RemoteServerForm
                key={view.config.name}
                initial={view.config}
                taken={list.map((v) => v.config.name)}
                onDone={() => {
                  setEditing(undefined)
                  servers.reload()
                }}
                onCancel={() => setEditing(undefined)}
              />
            ) : editing === view.config.name ? (
              <ServerForm
                key={view.config.name}
                initial={view.config}
                onDone={() => {
                  setEditing(undefined)
                  servers.reload()
                }}
                onCancel={() => setEditing(undefined)}
              />
            ) : (
              <ServerCard
                key={view.config.name}
                view={view}
                routedFrom={routes.get(view.config.name)}
                onEdit={() => setEditing(view.config.name)}
                onChanged={servers.reload}
              />
            ),
          )}
        </div>
      )}
    </div>
  )
}
