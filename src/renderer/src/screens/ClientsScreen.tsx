/**
 * Clients: the MCP clients on this machine (Claude Desktop, Cursor, VS Code…), their servers and
 * whether each reaches its server only through Airlock. Protect, Re-protect and Restore first
 * show the exact diff; only Apply writes, and it writes exactly what was shown. The list follows
 * `clients.changed`, so an entry a client rewrites back shows "not protected" within seconds.
 */
import { useCallback, useRef, useState } from 'react'
import type { ClientApplyResult, ClientPlan } from '../../../shared/contract/control-api'
import { ClientCard, requestKey, type PlanRequest } from '../components/ClientCard'
import { EmptyState } from '../components/EmptyState'
import { ErrorNotice } from '../components/ErrorNotice'
import { Loading } from '../components/Loading'
import { PlanPanel } from '../components/PlanPanel'
import { useApi } from '../api-context'
import { errorMessage } from '../format'
import { useApiEvent } from '../hooks/use-api-event'
import { useResource } from '../hooks/use-resource'

interface Review {
  plan: ClientPlan
  notice?: readonly string[]
  error?: string
}

interface Outcome {
  client: string
  ok: boolean
  lines: string[]
}

function describe(plan: ClientPlan, result: ClientApplyResult): Outcome {
  const done = plan.action === 'wrap' ? 'Protected' : 'Restored'
  const lines = [
    result.written.length
      ? `${done}: wrote ${result.written.join(', ')}.`
      : `Nothing was written to ${plan.clientName}'s config.`,
    ...result.backups.map((b) => `Backup: ${b}`),
    ...result.notes,
    ...result.errors,
  ]
  return { client: plan.client, ok: result.errors.length === 0, lines }
}

/** The Clients screen. */
export function ClientsScreen() {
  const api = useApi()
  const clients = useResource(() => api.clients.list(), [api])
  const [busy, setBusy] = useState<string | undefined>(undefined)
  const [review, setReview] = useState<Review | undefined>(undefined)
  const [planError, setPlanError] = useState<{ client: string; message: string } | undefined>(
    undefined,
  )
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined)
  const returnFocus = useRef<HTMLElement | null>(null)
  const outcomeRef = useRef<HTMLDivElement>(null)
  useApiEvent('clients.changed', clients.reload)
  // Each routed entry says what Airlock does with its server's calls, as the Servers screen does.
  const servers = useResource(() => api.servers.list(), [api])
  useApiEvent('servers.changed', servers.reload)
  useApiEvent('clients.changed', servers.reload)
  const serverList = servers.data
  const protectionOf = useCallback(
    (name: string) => serverList?.find((s) => s.config.name === name)?.protection,
    [serverList],
  )

  const plan = useCallback(
    (request: PlanRequest) => {
      returnFocus.current = document.activeElement as HTMLElement | null
      setBusy(requestKey(request))
      setPlanError(undefined)
      setOutcome(undefined)
      api.clients
        .plan({
          client: request.client,
          action: request.action,
          ...(request.server ? { server: request.server } : {}),
        })
        .then(
          (p) => setReview({ plan: p }),
          (err: unknown) => {
            setReview(undefined)
            setPlanError({ client: request.client, message: errorMessage(err) })
          },
        )
        .finally(() => setBusy(undefined))
    },
    [api],
  )

  const cancel = useCallback(() => {
    setReview(undefined)
    const el = returnFocus.current
    if (el && el.isConnected) el.focus()
  }, [])

  const apply = useCallback(() => {
    if (!review) return
    const shown = review.plan
    setBusy('apply')
    api.clients
      .apply({ planId: shown.planId })
      .then(
        (result) => {
          if (!result.applied && result.plan) {
            // A file changed since the diff was shown: review the new one.
            setReview({ plan: result.plan, notice: result.notes })
            return
          }
          setReview(undefined)
          setOutcome(describe(shown, result))
          clients.reload()
          requestAnimationFrame(() => outcomeRef.current?.focus())
        },
        (err: unknown) => setReview({ ...review, error: errorMessage(err) }),
      )
      .finally(() => setBusy(undefined))
  }, [api, review, clients])

  const list = clients.data ?? []
  const drifted = list.flatMap((c) =>
    c.files.flatMap((f) => f.entries.filter((e) => e.drifted).map((e) => `${e.name} (${c.name})`)),
  )
  return (
    <div className="screen" data-testid="screen-clients">
      <div className="screen-head">
        <h2>Clients</h2>
        <p className="small muted">
          The MCP clients on this machine, and whether they reach their servers only through
          Airlock.
        </p>
        <div className="actions">
          <button
            type="button"
            className="btn"
            onClick={clients.reload}
            disabled={clients.loading || busy !== undefined}
          >
            Refresh
          </button>
        </div>
      </div>
      {drifted.length > 0 ? (
        <div className="banner banner-error banner-box" role="alert" data-testid="drift-banner">
          Not protected any more: {drifted.join(', ')}. The client rewrote the entries Airlock
          wrapped, so it reaches these servers directly. Re-protect them below.
        </div>
      ) : null}
      {clients.error ? (
        <ErrorNotice message={clients.error} onRetry={clients.reload} />
      ) : clients.loading && !clients.data ? (
        <Loading what="MCP clients" />
      ) : list.length === 0 ? (
        <EmptyState title="No MCP clients found on this machine" testId="clients-empty">
          Airlock looks for the config files of Claude Desktop, Claude Code, Cursor, VS Code,
          Windsurf, Gemini CLI, Codex, Cline, Continue and Zed. Set one up, then Refresh.
        </EmptyState>
      ) : (
        <div className="card-list">
          {list.map((c) => (
            <ClientCard key={c.id} client={c} busy={busy} onPlan={plan} protectionOf={protectionOf}>
              {planError?.client === c.id ? (
                <p className="state-error small" role="alert">
                  {planError.message}
                </p>
              ) : null}
              {outcome?.client === c.id ? (
                <div
                  className={outcome.ok ? 'outcome' : 'outcome state-error'}
                  role="status"
                  tabIndex={-1}
                  ref={outcomeRef}
                  data-testid="apply-outcome"
                >
                  {outcome.lines.map((l, i) => (
                    <p key={i} className="small">
                      {l}
                    </p>
                  ))}
                </div>
              ) : null}
              {review?.plan.client === c.id ? (
                <PlanPanel
                  plan={review.plan}
                  notice={review.notice}
                  error={review.error}
                  busy={busy === 'apply'}
                  onApply={apply}
                  onCancel={cancel}
                />
              ) : null}
            </ClientCard>
          ))}
        </div>
      )}
    </div>
  )
}
