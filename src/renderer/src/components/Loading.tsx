/** The loading state: a quiet line that screen readers announce. */

/** Shows "Loading …" with a spinner. */
export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  )
}
