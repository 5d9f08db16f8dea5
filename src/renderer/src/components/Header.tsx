/**
 * The header: the app's name, the screens, the pending-approvals count, the clients no longer
 * protected (drift) and the paused state.
 */

/** The screens, in tab order. */
export const SCREENS = [
  { id: 'activity', label: 'Activity' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'servers', label: 'Servers' },
  { id: 'clients', label: 'Clients' },
  { id: 'policy', label: 'Tools & policy' },
  { id: 'settings', label: 'Settings' },
] as const

/** A screen's id. */
export type ScreenId = (typeof SCREENS)[number]['id']

/** Props of the header. */
export interface HeaderProps {
  screen: ScreenId
  onNavigate: (screen: ScreenId) => void
  pending: number
  /** Wrapped client entries not protected now (rewritten back by their client, or broken). */
  unprotected: number
  /** Servers whose last process exited on its own or could not start (and none runs now). */
  failing?: readonly string[]
  paused: boolean
  onPause: (paused: boolean) => void
}

/** Screen ids, for values from outside (the URL, the desktop host). */
export function isScreenId(value: unknown): value is ScreenId {
  return SCREENS.some((s) => s.id === value)
}

/** The header bar with navigation. */
export function Header({
  screen,
  onNavigate,
  pending,
  unprotected,
  failing = [],
  paused,
  onPause,
}: HeaderProps) {
  return (
    <header className="app-header">
      <div className="brand" aria-label="Airlock">
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path
            d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5l-8-3Z"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinejoin="round"
          />
          <path d="M9 12h6M12 9v6" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        </svg>
        <span>Airlock</span>
      </div>
      <nav aria-label="Screens">
        <ul>
          {SCREENS.map((s) => (
            <li key={s.id}>
              <button
                type="button"
                className="nav-link"
                aria-current={screen === s.id ? 'page' : undefined}
                onClick={() => onNavigate(s.id)}
              >
                {s.label}
                {s.id === 'approvals' && pending > 0 ? (
                  <span className="count" aria-hidden="true">
                    {pending}
                  </span>
                ) : null}
                {s.id === 'clients' && unprotected > 0 ? (
                  <span className="count" aria-hidden="true">
                    !
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div className="header-status">
        <button
          type="button"
          className={`pill${pending > 0 ? ' pill-alert' : ''}`}
          onClick={() => onNavigate('approvals')}
          data-testid="pending-count"
          data-count={pending}
          aria-label={`${pending} pending ${pending === 1 ? 'approval' : 'approvals'}`}
        >
          {pending} pending
        </button>
        {unprotected > 0 ? (
          <button
            type="button"
            className="pill pill-alert"
            onClick={() => onNavigate('clients')}
            data-testid="drift-indicator"
            data-count={unprotected}
          >
            ⚠ {unprotected} not protected
          </button>
        ) : null}
        {failing.length > 0 ? (
          <button
            type="button"
            className="pill pill-alert"
            onClick={() => onNavigate('servers')}
            data-testid="server-failing-indicator"
            data-count={failing.length}
            title={`Failing: ${failing.join(', ')}`}
          >
            {failing.length === 1 ? `${failing[0]} failing` : `${failing.length} servers failing`}
          </button>
        ) : null}
        {paused ? (
          <span className="pill pill-paused" data-testid="paused-indicator" role="status">
            <svg className="pause-glyph" viewBox="0 0 10 12" aria-hidden="true" focusable="false">
              <rect x="1" y="1" width="3" height="10" rx="0.6" fill="currentColor" />
              <rect x="6" y="1" width="3" height="10" rx="0.6" fill="currentColor" />
            </svg>
            Paused
          </span>
        ) : null}
        <button
          type="button"
          className="btn btn-small"
          onClick={() => onPause(!paused)}
          aria-pressed={paused}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
      </div>
    </header>
  )
}
