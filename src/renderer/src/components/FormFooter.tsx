/** The end of a server form: what is wrong with it (announced), then Save (or Add) and Cancel. */
export function FormFooter({
  errors,
  saving,
  editing,
  onCancel,
}: {
  errors: readonly string[]
  saving: boolean
  /** Editing an existing server ("Save server") rather than adding one ("Add server"). */
  editing: boolean
  onCancel: () => void
}) {
  return (
    <>
      {errors.length > 0 ? (
        <ul className="state-error small" role="alert">
          {errors.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      ) : null}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? 'Saving…' : editing ? 'Save server' : 'Add server'}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={saving}>
          Cancel
        </button>
      </div>
    </>
  )
}
