/**
 * Adds a remote server by URL, or edits one: name, URL and headers, through `servers.add` /
 * `servers.update` as `airlock servers add <name> --url … --header …` adds one. Secret-looking
 * headers (and those marked secret) go as `secretValues`, never in config.json.
 */
import { useId, useState, type FormEvent } from 'react'
import {
  headerSecretKey,
  isSecretHeaderName,
  serverConfigSchema,
  serverNameSchema,
  type ServerConfig,
} from '../../../shared/contract/config'
import type { ServerView } from '../../../shared/contract/control-api'
import { TextField } from './Field'
import { FormFooter } from './FormFooter'
import { useApi } from '../api-context'
import { errorMessage } from '../format'
import { useResource } from '../hooks/use-resource'

/** One header row as edited. `stored` marks a secret whose value the host keeps already. */
interface HeaderRow {
  name: string
  value: string
  secret: boolean
  stored: boolean
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/

function rowsOf(config: ServerConfig | undefined): HeaderRow[] {
  if (!config) return []
  // The listed config shows secret headers masked among the others: they are rows of their own.
  const secret = config.secretHeaders ?? []
  return [
    ...Object.entries(config.headers ?? {})
      .filter(([name]) => !secret.includes(name))
      .map(([name, value]) => ({
        name,
        value,
        secret: false,
        stored: false,
      })),
    ...(config.secretHeaders ?? []).map((name) => ({
      name,
      value: '',
      secret: true,
      stored: true,
    })),
  ]
}

/** What is wrong with `url` as a remote server's URL, or undefined. */
export function remoteUrlProblem(url: string): string | undefined {
  if (url === '') return "enter the server's URL, e.g. https://mcp.example.com/mcp"
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `"${url}" is not a URL; enter one like https://mcp.example.com/mcp`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `${parsed.protocol} URLs are not supported: Airlock reaches remote servers over http:// or https://`
  if (parsed.hostname === '')
    return `"${url}" names no host; enter one like https://mcp.example.com/mcp`
  return undefined
}

type FieldErrors = { name?: string; url?: string; headers: string[]; other: string[] }

/** The form; `initial` edits that remote server; `taken` are the names already configured. */
export function RemoteServerForm({
  initial,
  taken,
  onDone,
  onCancel,
}: {
  initial?: ServerConfig
  taken: readonly string[]
  onDone: (view: ServerView) => void
  onCancel: () => void
}) {
  const api = useApi()
  const status = useResource(() => api.status.get(), [api])
  const [name, setName] = useState(initial?.name ?? '')
  const [url, setUrl] = useState(initial?.url ?? '')
  const [rows, setRows] = useState<HeaderRow[]>(() => rowsOf(initial))
  const [enabled, setEnabled] = useState(initial?.enabled ?? true)
  const [errors, setErrors] = useState<FieldErrors>({ headers: [], other: [] })
  const [saving, setSaving] = useState(false)
  const noteId = useId()

  const update = (i: number, patch: Partial<HeaderRow>): void =>
    setRows(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)))

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const found: FieldErrors = { headers: [], other: [] }
    const trimmedName = name.trim()
    const named = serverNameSchema.safeParse(trimmedName)
    if (!named.success) found.name = named.error.issues[0]?.message ?? 'not a valid name'
    else if (trimmedName !== initial?.name && taken.includes(trimmedName))
      found.name = `a server named "${trimmedName}" already exists; pick another name or edit that one`
    const trimmedUrl = url.trim()
    found.url = remoteUrlProblem(trimmedUrl)
    const headers: Record<string, string> = {}
    const secretHeaders: string[] = []
    const secretValues: Record<string, string> = {}
    const seen = new Set<string>()
    for (const r of rows) {
      const h = r.name.trim()
      if (!h) {
        if (r.value) found.headers.push('a header with a value has no name')
        continue
      }
      if (!HEADER_NAME.test(h)) {
        found.headers.push(`"${h}" is not an HTTP header name (letters, digits and -)`)
        continue
      }
      if (seen.has(h.toLowerCase())) found.headers.push(`"${h}" is given twice`)
      seen.add(h.toLowerCase())
      if (r.secret || isSecretHeaderName(h)) {
        secretHeaders.push(h)
        if (r.value !== '') secretValues[headerSecretKey(h)] = r.value
        else if (!r.stored) found.headers.push(`enter a value for the secret header "${h}"`)
      } else headers[h] = r.value
    }
    const candidate = {
      name: trimmedName,
      url: trimmedUrl,
      args: [],
      env: {},
      secretEnv: [],
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(secretHeaders.length ? { secretHeaders } : {}),
      enabled,
      ...(initial?.policy !== undefined ? { policy: initial.policy } : {}),
    }
    const parsed = serverConfigSchema.safeParse(candidate)
    if (!parsed.success && !found.name && !found.url && found.headers.length === 0)
      found.other.push(
        ...parsed.error.issues.map((i) => `${i.path.join('.') || 'server'}: ${i.message}`),
      )
    setErrors(found)
    if (found.name || found.url || found.headers.length || found.other.length || !parsed.success)
      return
    setSaving(true)
    try {
      const secrets = Object.keys(secretValues).length > 0 ? { secretValues } : {}
      const view = initial
        ? await api.servers.update({ name: initial.name, server: parsed.data, ...secrets })
        : await api.servers.add({ server: parsed.data, ...secrets })
      onDone(view)
    } catch (err) {
      const message = errorMessage(err)
      // The gateway's own refusals land beside the field they are about.
      if (/a server named .* already exists/.test(message)) setErrors({ ...found, name: message })
      else setErrors({ ...found, other: [message] })
    } finally {
      setSaving(false)
    }
  }

  const title = initial ? `Edit ${initial.name}` : 'Add a server by URL'
  return (
    <form
      className="card form"
      onSubmit={(e) => void submit(e)}
      aria-label={title}
      data-testid="remote-server-form"
      noValidate
    >
      <h3>{title}</h3>
      <div className="form-grid">
        <TextField
          label="Name"
          hint={`What MCP clients connect to: airlock connect ${name.trim() || '<name>'}`}
          error={errors.name}
          value={name}
          onChange={setName}
          required
          placeholder="linear"
        />
        <TextField
          label="URL"
          hint="Streamable HTTP; Airlock falls back to the older HTTP+SSE transport when the server asks for it"
          error={errors.url}
          type="url"
          value={url}
          onChange={setUrl}
          required
          placeholder="https://mcp.example.com/mcp"
        />
      </div>
      <fieldset className="env-rows" aria-describedby={noteId}>
        <legend>Headers</legend>
        {rows.length === 0 ? <p className="muted small">No headers.</p> : null}
        {rows.map((r, i) => {
          const always = isSecretHeaderName(r.name.trim())
          const secret = r.secret || always
          return (
            <div className="env-row" key={i} data-testid="header-row">
              <label>
                <span className="sr-only">Header {i + 1} name</span>
                <input
                  type="text"
                  value={r.name}
                  placeholder="Authorization"
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => update(i, { name: e.currentTarget.value })}
                />
              </label>
              <label className="grow">
                <span className="sr-only">Header {i + 1} value</span>
                <input
                  type={secret ? 'password' : 'text'}
                  value={r.value}
                  placeholder={secret && r.stored ? 'unchanged (stored securely)' : 'value'}
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => update(i, { value: e.currentTarget.value })}
                />
              </label>
              <label
                className="checkbox"
                title={
                  always
                    ? 'Authorization, Cookie and names with token, key, secret or password are always kept secret'
                    : undefined
                }
              >
                <input
                  type="checkbox"
                  checked={secret}
                  disabled={always}
                  onChange={(e) => update(i, { secret: e.currentTarget.checked })}
                />
                secret
              </label>
              <button
                type="button"
                className="btn btn-small"
                aria-label={`Remove header ${r.name || i + 1}`}
                onClick={() => setRows(rows.filter((_, k) => k !== i))}
              >
                Remove
              </button>
            </div>
          )
        })}
        {errors.headers.length > 0 ? (
          <ul className="state-error small" role="alert" data-testid="header-errors">
            {errors.headers.map((m, i) => (
              <li key={i}>{m}</li>
            ))}
          </ul>
        ) : null}
        <button
          type="button"
          className="btn btn-small"
          onClick={() => setRows([...rows, { name: '', value: '', secret: false, stored: false }])}
        >
          Add header
        </button>
        <p className="muted small" id={noteId} data-testid="secret-store">
          Secret header values (Authorization, Cookie, names with token, key, secret or password,
          and any you mark) are never shown again. They are kept in{' '}
          {status.data?.secretStore ?? 'the secret store, never in config.json'}.
        </p>
      </fieldset>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        Enabled
      </label>
      <FormFooter
        errors={errors.other}
        saving={saving}
        editing={Boolean(initial)}
        onCancel={onCancel}
      />
    </form>
  )
}
