/**
 * "Try a call": the engine's decision for a tool and JSON arguments (policy.try), against the
 * text being edited or the saved policy. Nothing reaches the server and nothing is recorded.
 */
import { useState, type FormEvent } from 'react'
import type { PolicyTryResult } from '../../../shared/contract/control-api'
import { useApi } from '../api-context'
import { errorMessage } from '../format'

const KIND: Record<PolicyTryResult['kind'], [string, string]> = {
  allow: ['allowed', 'tone-good'],
  deny: ['denied', 'tone-bad'],
  hidden: ['hidden', 'tone-muted'],
  rate_limited: ['rate limited', 'tone-warn'],
  needs_approval: ['asks you', 'tone-info'],
}

/** Props: the server, its tool names (suggestions), and the editor's text when it differs from the saved one. */
export function TryCall({
  server,
  tools,
  editedText,
}: {
  server: string
  tools: readonly string[]
  editedText: string | undefined
}) {
  const api = useApi()
  const [tool, setTool] = useState(tools[0] ?? '')
  const [args, setArgs] = useState('{}')
  const [client, setClient] = useState('')
  const [useEdited, setUseEdited] = useState(true)
  const [result, setResult] = useState<PolicyTryResult | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)

  const run = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setResult(undefined)
    setError(undefined)
    let parsed: unknown
    try {
      parsed = JSON.parse(args.trim() === '' ? '{}' : args)
    } catch (err) {
      setError(`Arguments: not JSON (${errorMessage(err)}); write an object, e.g. {"path": "/tmp"}`)
      return
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setError('Arguments: expected a JSON object, e.g. {"path": "/tmp"}')
      return
    }
    setBusy(true)
    try {
      const text = useEdited ? editedText : undefined
      setResult(
        await api.policy.try({
          server,
          tool: tool.trim(),
          args: parsed as Record<string, unknown>,
          ...(client.trim() !== '' ? { client: client.trim() } : {}),
          ...(text !== undefined ? { text } : {}),
        }),
      )
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  const listId = `try-tools-${server}`
  return (
    <section className="panel try-call" aria-labelledby="try-title" data-testid="try-call">
      <h3 id="try-title">Try a call</h3>
      <p className="small muted">
        What the policy decides for a call, without running it. Rate limits start from zero here.
      </p>
      <form onSubmit={(e) => void run(e)} className="try-form">
        <label>
          Tool
          <input
            type="text"
            value={tool}
            list={listId}
            required
            spellCheck={false}
            onChange={(e) => setTool(e.currentTarget.value)}
          />
          <datalist id={listId}>
            {tools.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label className="try-args">
          Arguments (JSON)
          <textarea
            value={args}
            rows={3}
            spellCheck={false}
            onChange={(e) => setArgs(e.currentTarget.value)}
          />
        </label>
        <label>
          Client (optional)
          <input
            type="text"
            value={client}
            placeholder="any client"
            spellCheck={false}
            onChange={(e) => setClient(e.currentTarget.value)}
          />
        </label>
        {editedText !== undefined ? (
          <label className="checkbox">
            <input
              type="checkbox"
              checked={useEdited}
              onChange={(e) => setUseEdited(e.currentTarget.checked)}
            />
            with the unsaved edits
          </label>
        ) : null}
        <button type="submit" className="btn" disabled={busy || tool.trim() === ''}>
          {busy ? 'Trying…' : 'Try'}
        </button>
      </form>
      {error ? (
        <p className="state-error small" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <p className="small" role="status" data-testid="try-result" data-kind={result.kind}>
          <span className={`badge ${KIND[result.kind][1]}`}>{KIND[result.kind][0]}</span>{' '}
          {result.summary}
          {result.floor ? ` (risk floor: ${result.floor})` : ''}
        </p>
      ) : null}
    </section>
  )
}
