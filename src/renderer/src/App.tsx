/**
 * The window: header, the screen chosen, and — on every screen but Approvals — the pending
 * approval cards, so a request is visible the moment it arrives wherever the user is.
 */
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import type { AirlockApi } from '../../shared/contract/control-api'
import { ActivityScreen } from './screens/ActivityScreen'
import { EMPTY_FILTER, type FilterDraft } from './components/ActivityFilters'
import { ApprovalList } from './components/ApprovalList'
import { ApprovalsScreen } from './screens/ApprovalsScreen'
import { ErrorNotice } from './components/ErrorNotice'
import { FirstRunGuide } from './components/FirstRunGuide'
import { ClientsScreen } from './screens/ClientsScreen'
import { Header, SCREENS, isScreenId, type ScreenId } from './components/Header'
import { PolicyScreen } from './screens/PolicyScreen'
import { ScreenBoundary } from './components/ScreenBoundary'
import { ServersScreen } from './screens/ServersScreen'
import { SettingsScreen } from './screens/SettingsScreen'
import { ApiContext } from './api-context'
import { errorMessage } from './format'
import { useApprovals } from './hooks/use-approvals'
import { useApprovalAlerts } from './hooks/use-approval-alerts'
import { useClientsStatus } from './hooks/use-clients-status'
import { useServers } from './hooks/use-servers'
import type { ConnectionSnapshot, ConnectionState } from './ws-transport'
import { approvalHeadline } from '../../shared/approval-answers'

/** The screen a new window opens on: `#screen=<id>` in the URL (the tray's "Re-protect…"), else Activity. */
function initialScreen(): ScreenId {
  const asked = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('screen')
  return isScreenId(asked) ? asked : 'activity'
}

/** The WebSocket connection's state, when the API goes over one (a browser). */
export interface Connection {
  snapshot(): ConnectionSnapshot
  onState(listener: (state: ConnectionState, detail?: string) => void): () => void
}

const noSubscription = (): (() => void) => () => undefined
const noConnection = (): undefined => undefined

/**
 * The whole UI over `api`; `desktop` is true inside the Electron app; `connection` (a browser's
 * WebSocket) drives a status banner, and everything shown is reloaded after a reconnection.
 */
export function App({
  api,
  desktop,
  connection,
}: {
  api: AirlockApi
  desktop: boolean
  connection?: Connection
}) {
  const [screen, setScreen] = useState<ScreenId>(initialScreen)
  const [draft, setDraft] = useState<FilterDraft>(EMPTY_FILTER)
  const [paused, setPaused] = useState(false)
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [announce, setAnnounce] = useState('')
  // Read as an external store: a change between the first render and the subscription (a fast
  // first connection) is seen, where a state copied at render and updated by a listener missed it.
  const link = useSyncExternalStore(
    connection ? connection.onState : noSubscription,
    connection ? connection.snapshot : noConnection,
  )
  // Each open after the first is a reconnection: events were missed, so everything shown reloads.
  const generation = Math.max(0, (link?.opens ?? 0) - 1)
  // A first connection is usually instant: say "connecting" only when it is not.
  const [slowStart, setSlowStart] = useState(false)
  useEffect(() => {
    const timer = setTimeout(() => setSlowStart(true), 800)
    return () => clearTimeout(timer)
  }, [])
  const approvals = useApprovals(api)
  useApprovalAlerts(approvals.pending, approvals.loading, connection !== undefined)
  const { reload: reloadApprovals } = approvals
  const clientsStatus = useClientsStatus(api, generation)
  const unprotected = clientsStatus?.drifted.length ?? 0
  const servers = useServers(api, generation)
  const failing = useMemo(
    () => (servers ?? []).filter((s) => s.status === 'failing').map((s) => s.config.name),
    [servers],
  )

  const loadStatus = useCallback(() => {
    api.status.get().then(
      (s) => {
        setPaused(s.paused)
        setProblem(undefined)
      },
      (err: unknown) => setProblem(errorMessage(err)),
    )
  }, [api])
  useEffect(() => {
    if (generation > 0) reloadApprovals()
  }, [generation, reloadApprovals])

  useEffect(() => {
    loadStatus()
    const offPaused = api.on('paused', (p) => setPaused(p.paused))
    const offRequested = api.on('approval.requested', (req) =>
      setAnnounce(`Approval needed: ${approvalHeadline(req)}.`),
    )
    // The desktop host's tray asks for a screen ("Re-protect…").
    const offShow = api.on('ui.show', (s) => setScreen(s.screen))
    return () => {
      offPaused()
      offRequested()
      offShow()
    }
  }, [api, loadStatus, generation])

  const onPause = useCallback(
    (next: boolean) => {
      setPaused(next)
      api.pause.set({ paused: next }).then(setPaused, (err: unknown) => {
        setProblem(`Could not ${next ? 'pause' : 'resume'}: ${errorMessage(err)}`)
        loadStatus()
      })
    },
    [api, loadStatus],
  )

  useEffect(() => {
    document.title =
      approvals.pending.length > 0 ? `(${approvals.pending.length}) Airlock` : 'Airlock'
  }, [approvals.pending.length])

  return (
    <ApiContext.Provider value={api}>
      <div className="app" data-connection={link?.state ?? 'ipc'}>
        <Header
          screen={screen}
          onNavigate={setScreen}
          pending={approvals.pending.length}
          unprotected={unprotected}
          failing={failing}
          paused={paused}
          onPause={onPause}
        />
        <div className="sr-only" aria-live="assertive">
          {announce}
        </div>
        {link && link.state !== 'open' && (link.state !== 'connecting' || slowStart) ? (
          <div
            className={`banner ${link.state === 'unauthorized' ? 'banner-error' : 'banner-paused'}`}
            role="status"
            data-testid="connection-banner"
          >
            {link.state === 'connecting'
              ? 'Connecting to the Airlock gateway…'
              : link.state === 'reconnecting'
                ? 'The connection to the Airlock gateway was lost; reconnecting…'
                : (link.detail ?? 'Not connected: open the URL that "airlock serve" printed.')}
          </div>
        ) : null}
        {paused ? (
          <div className="banner banner-paused" role="status">
            Paused: every tool call is denied until you resume.
          </div>
        ) : null}
        {problem ? (
          <div className="banner-wrap">
            <ErrorNotice message={problem} onRetry={loadStatus} />
          </div>
        ) : null}
        <main className="main" key={generation}>
          {screen !== 'approvals' && approvals.pending.length > 0 ? (
            <ScreenBoundary name="The approvals dock">
              <section
                className="pending-dock"
                aria-label="Pending approvals"
                data-testid="pending-dock"
              >
                <ApprovalList pending={approvals.pending} onDismiss={approvals.dismiss} compact />
              </section>
            </ScreenBoundary>
          ) : null}
          <ScreenBoundary key={screen} name={SCREENS.find((s) => s.id === screen)?.label ?? screen}>
            {screen === 'activity' ? (
              <>
                {servers !== undefined && servers.length === 0 ? (
                  <FirstRunGuide
                    servers={servers.length}
                    protectedEntries={clientsStatus?.watched ?? 0}
                    onNavigate={setScreen}
                  />
                ) : null}
                <ActivityScreen draft={draft} onDraftChange={setDraft} />
              </>
            ) : null}
            {screen === 'approvals' ? <ApprovalsScreen approvals={approvals} /> : null}
            {screen === 'servers' ? <ServersScreen /> : null}
            {screen === 'clients' ? <ClientsScreen /> : null}
            {screen === 'policy' ? <PolicyScreen /> : null}
            {screen === 'settings' ? (
              <SettingsScreen desktop={desktop} paused={paused} onPause={onPause} />
            ) : null}
          </ScreenBoundary>
        </main>
      </div>
    </ApiContext.Provider>
  )
}
