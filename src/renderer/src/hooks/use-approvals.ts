/**
 * Pending approvals for the whole window: the list at start, then `approval.requested` adds a
 * card at once and `approval.resolved` removes it. Kept in the App so every screen (and the
 * header's count) sees a request the moment it arrives.
 */
import { useCallback, useEffect, useState } from 'react'
import type { AirlockApi, PendingApprovalView } from '../../../shared/contract/control-api'
import { errorMessage } from '../format'

/** What the App gets. */
export interface Approvals {
  pending: readonly PendingApprovalView[]
  error: string | undefined
  loading: boolean
  /** Removes a card locally (after a late answer that the gateway no longer knows). */
  dismiss: (id: string) => void
  reload: () => void
}

/** Follows pending approvals through `api`. */
export function useApprovals(api: AirlockApi): Approvals {
  const [pending, setPending] = useState<readonly PendingApprovalView[]>([])
  const [error, setError] = useState<string | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  // Another api lists again: loading from this render on (reload() says so itself).
  const [listedApi, setListedApi] = useState(api)
  if (listedApi !== api) {
    setListedApi(api)
    setLoading(true)
  }

  useEffect(() => {
    let live = true
    const seen = new Set<string>()
    const resolved = new Set<string>()
    const offRequested = api.on('approval.requested', (req) => {
      seen.add(req.id)
      setPending((prev) => (prev.some((p) => p.id === req.id) ? prev : [...prev, req]))
    })
    const offResolved = api.on('approval.resolved', ({ id }) => {
      resolved.add(id)
      setPending((prev) => (prev.some((p) => p.id === id) ? prev.filter((p) => p.id !== id) : prev))
    })
    api.approvals.list().then(
      (list) => {
        if (!live) return
        // Events may have arrived while listing: keep them, drop what was resolved meanwhile.
        setPending((prev) => {
          const byId = new Map(prev.map((p) => [p.id, p]))
          for (const p of list) if (!resolved.has(p.id)) byId.set(p.id, p)
          return [...byId.values()].sort((a, b) => a.requestedAt - b.requestedAt)
        })
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (!live) return
        setError(errorMessage(err))
        setLoading(false)
      },
    )
    return () => {
      live = false
      offRequested()
      offResolved()
    }
  }, [api, tick])

  const dismiss = useCallback(
    (id: string) => setPending((prev) => prev.filter((p) => p.id !== id)),
    [],
  )
  const reload = useCallback(() => {
    setLoading(true)
    setTick((t) => t + 1)
  }, [])
  return { pending, error, loading, dismiss, reload }
}
