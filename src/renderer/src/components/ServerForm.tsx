/** Adds a server or edits one: command, arguments, environment (with secrets) and directory. */
import { useState, type FormEvent } from 'react'
import { serverConfigSchema, type ServerConfig } from '../../../shared/contract/config'
import type { ServerView } from '../../../shared/contract/control-api'
import { EnvRows, type EnvRow } from './EnvRows'
import { TextField } from './Field'
import { FormFooter } from './FormFooter'
import { useApi } from '../api-context'
import { errorMessage } from '../format'
import { useResource } from '../hooks/use-resource'

function rowsOf(config: ServerConfig | undefined): EnvRow[] {
  if (!config) return []
  return Object.entries(config.env).map(([key, value]) => {
    const secret = config.secretEnv.includes(key)
    return { key, value: secret ? '' : value, secret, stored: secret }
  })
}

/**
 * The form; `initial` edits that server (its name is kept as the one to update). Secret values
 * go as `secretValues`, never in `env`; a stored secret left blank keeps its value.
 */
export function ServerForm({
  initial,
  onDone,
  onCancel,
}: {
  initial?: ServerConfig
  onDone: (view: ServerView) => void
  onCancel: () => void
}) {
  const api = useApi()
  const status = useResource(() => api.status.get(), [api])
  const [name, setName] = useState(initial?.name ?? '')
  const [command, setCommand] = useState(initial?.command ?? '')
  const [args, setArgs] = useState((initial?.args ?? []).join('\n'))
  const [cwd, setCwd] = useState(initial?.cwd ?? '')
  const [enabled, setEnabled] = useState(initial?.enabled ?? true)
  const [env, setEnv] = useState<EnvRow[]>(() => rowsOf(initial))
  const [errors, setErrors] = useState<string[]>([])
  const [saving, setSaving] = useState(false)

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const problems: string[] = []
    const envOut: Record<string, string> = {}
    const secretEnv: string[] = []
    const secretValues: Record<string, string> = {}
    const seen = new Set<string>()
    for (const row of env) {
      const key = row.key.trim()
      if (!key) {
        if (row.value) problems.push('environment: a variable with a value has no name')
        continue
      }
      if (seen.has(key)) problems.push(`environment: "${key}" is given twice`)
      seen.add(key)
      if (row.secret) {
        secretEnv.push(key)
        if (row.value !== '') secretValues[key] = row.value
        else if (!row.stored) problems.push(`environment: enter a value for the secret "${key}"`)
      } else envOut[key] = row.value
    }
    const candidate = {
      name: name.trim(),
      command: command.trim(),
      args: args
        .split('\n')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
      env: envOut,
      secretEnv,
      ...(cwd.trim() ? { cwd: cwd.trim() } : {}),
      enabled,
      ...(initial?.policy !== undefined ? { policy: initial.policy } : {}),
    }
    const parsed = serverConfigSchema.safeParse(candidate)
    if (!parsed.success)
      problems.push(
        ...parsed.error.issues.map((i) => `${i.path.join('.') || 'server'}: ${i.message}`),
      )
    setErrors(problems)
    if (problems.length > 0 || !parsed.success) return
    setSaving(true)
    try {
      const secrets = Object.keys(secretValues).length > 0 ? { secretValues } : {}
      const view = initial
        ? await api.servers.update({ name: initial.name, server: parsed.data, ...secrets })
        : await api.servers.add({ server: parsed.data, ...secrets })
      onDone(view)
    } catch (err) {
      setErrors([errorMessage(err)])
    } finally {
      setSaving(false)
    }
  }

  const title = initial ? `Edit ${initial.name}` : 'Add a server'
  return (
    <form
      className="card form"
      onSubmit={(e) => void submit(e)}
      aria-label={title}
      data-testid="server-form"
    >
      <h3>{title}</h3>
      <div className="form-grid">
        <TextField
          label="Name"
          hint={`What MCP clients connect to: airlock connect ${name.trim() || '<name>'}`}
          value={name}
          onChange={setName}
          required
          placeholder="github"
        />
        <label>
          Command
          <input
            type="text"
            value={command}
            onChange={(e) => setCommand(e.currentTarget.value)}
            required
            spellCheck={false}
            placeholder="npx"
            autoComplete="off"
          />
        </label>
        <label>
          Arguments (one per line)
          <textarea
            value={args}
            onChange={(e) => setArgs(e.currentTarget.value)}
            rows={3}
            spellCheck={false}
            placeholder={'-y\n@modelcontextprotocol/server-github'}
          />
        </label>
        <label>
          Working directory
          <input
            type="text"
            value={cwd}
            onChange={(e) => setCwd(e.currentTarget.value)}
            spellCheck={false}
            placeholder="(optional)"
            autoComplete="off"
          />
        </label>
      </div>
      <EnvRows rows={env} onChange={setEnv} secretStore={status.data?.secretStore} />
      <label className="checkbox">
        <input
          type="checkbox"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        Enabled
      </label>
      <FormFooter errors={errors} saving={saving} editing={Boolean(initial)} onCancel={onCancel} />
    </form>
  )
}
