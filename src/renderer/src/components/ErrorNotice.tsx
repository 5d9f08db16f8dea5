/** The error state: the message as given (it says what to do next) and an optional retry. */

/** Shows `message` as an alert, with a "Try again" button when `onRetry` is given. */
export function ErrorNotice({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{message}</p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}
