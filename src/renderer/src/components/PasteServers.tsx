/**
 * Add servers by pasting an `mcpServers` block (from a client's config or a README): the gateway
 * reads it as a client config is read, shows what it would add and what is wrong, and adds the
 * servers only when nothing is.
 */
import { useState } from 'react'
import type { ResultOf } from '../../../shared/contract/control-api'
import { useApi } from '../api-context'
import { errorMessage, visibleText } from '../format'

type Preview = ResultOf<'servers.paste'>

const EXAMPLE = `{
  "mcpServers": {
    "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] }
  }
}`

/** The paste form; `onAdded` gets the names added. */
export function PasteServers({
  onAdded,
  onCancel,
}: {
  onAdded: (names: string[]) => void
  onCancel?: () => void
}) {
  const api = useApi()
  const [text, setText] = useState('')
  const [preview, setPreview] = useState<Preview | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const send = async (apply: boolean): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      const r = await api.servers.paste({ text, apply })
      setPreview(r)
      if (apply && r.errors.length === 0) onAdded(r.added)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  const fresh = preview?.servers.filter((s) => !s.reuse) ?? []

  return (
    <section
      className="card paste"
      aria-label="Paste an mcpServers block"
      data-testid="paste-servers"
    >
      <label htmlFor="paste-text">
        Paste an <span className="mono">mcpServers</span> block (from a client&apos;s config or a
        README)
      </label>
      <textarea
        id="paste-text"
        className="mono"
        rows={8}
        value={text}
        placeholder={EXAMPLE}
        spellCheck={false}
        onChange={(e) => {
          setText(e.currentTarget.value)
          setPreview(undefined)
        }}
      />
      {error ? (
        <p className="state-error small" role="alert">
          {error}
        </p>
      ) : null}
      {preview && preview.errors.length > 0 ? (
        <ul className="state-error small" role="alert" data-testid="paste-errors">
          {preview.errors.map((e) => (
            <li key={e}>{visibleText(e)}</li>
          ))}
        </ul>
      ) : null}
      {preview && preview.servers.length > 0 ? (
        <ul className="paste-preview small" data-testid="paste-preview">
          {preview.servers.map((s) => (
            <li key={s.name}>
              <strong>{s.name}</strong>{' '}
              <span className="mono">{visibleText([s.command, ...s.args].join(' '))}</span>
              {s.envKeys.length > 0 ? (
                <span className="muted"> · env {s.envKeys.join(', ')}</span>
              ) : null}
              {s.reuse ? <span className="muted"> · already configured</span> : null}
              {s.warnings.map((w) => (
                <div key={w} className="muted">
                  {visibleText(w)}
                </div>
              ))}
            </li>
          ))}
        </ul>
      ) : null}
      {preview && preview.added.length > 0 ? (
        <p className="small" role="status">
          Added {preview.added.join(', ')}.
        </p>
      ) : null}
      <div className="actions">
        <button
          type="button"
          className="btn"
          disabled={busy || text.trim() === ''}
          onClick={() => void send(false)}
        >
          Check
        </button>
        <button
          type="button"
          className="btn btn-primary"
          disabled={busy || !preview || preview.errors.length > 0 || fresh.length === 0}
          onClick={() => void send(true)}
        >
          {fresh.length > 0
            ? `Add ${fresh.length} ${fresh.length === 1 ? 'server' : 'servers'}`
            : 'Add servers'}
        </button>
        {onCancel ? (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </section>
  )
}
