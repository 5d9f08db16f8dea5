/** Environment variable rows for a server: name, value, and a "secret" flag per row. */

/** One row as edited. `stored` marks a secret that already has a value kept by the host. */
export interface EnvRow {
  key: string
  value: string
  secret: boolean
  stored: boolean
}

/** The editable rows; `onChange` gets the whole new list. */
export function EnvRows({
  rows,
  onChange,
  secretStore,
}: {
  rows: readonly EnvRow[]
  onChange: (rows: EnvRow[]) => void
  /** Where the host keeps secret values (status.get), when known. */
  secretStore?: string
}) {
  const update = (i: number, patch: Partial<EnvRow>): void =>
    onChange(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)))
  return (
    <fieldset className="env-rows">
      <legend>Environment</legend>
      {rows.length === 0 ? <p className="muted small">No variables.</p> : null}
      {rows.map((r, i) => (
        <div className="env-row" key={i} data-testid="env-row">
          <label>
            <span className="sr-only">Variable {i + 1} name</span>
            <input
              type="text"
              value={r.key}
              placeholder="NAME"
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => update(i, { key: e.currentTarget.value })}
            />
          </label>
          <label className="grow">
            <span className="sr-only">Variable {i + 1} value</span>
            <input
              type={r.secret ? 'password' : 'text'}
              value={r.value}
              placeholder={r.secret && r.stored ? 'unchanged (stored securely)' : 'value'}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => update(i, { value: e.currentTarget.value })}
            />
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={r.secret}
              onChange={(e) => update(i, { secret: e.currentTarget.checked })}
            />
            secret
          </label>
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Remove variable ${r.key || i + 1}`}
            onClick={() => onChange(rows.filter((_, k) => k !== i))}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-small"
        onClick={() => onChange([...rows, { key: '', value: '', secret: false, stored: false }])}
      >
        Add variable
      </button>
      <p className="muted small" data-testid="secret-store">
        Secret values are never shown again. They are kept in{' '}
        {secretStore ?? 'the secret store, never in config.json'}.
      </p>
    </fieldset>
  )
}
