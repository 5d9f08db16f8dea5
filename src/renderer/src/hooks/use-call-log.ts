/**
 * The Activity list: a page of calls from `audit.query`, more pages by `beforeSeq` on demand, and
 * live rows from `audit.appended`, batched so that a burst of calls is one render.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import type { AuditFilter, CallRow } from '../../../shared/contract/control-api'
import { useApi } from '../api-context'
import { applyLive } from '../call-log'
import { errorMessage } from '../format'

/** Rows in the first `audit.query` page (quick to show). */
export const PAGE_SIZE = 200
/** Rows per further page, as the user scrolls (the API's maximum is 1000). */
export const MORE_SIZE = 500

/** What the Activity screen gets. */
export interface CallLog {
  rows: readonly CallRow[]
  hasMore: boolean
  loading: boolean
  error: string | undefined
  loadMore: () => void
  reload: () => void
  /** Changes a listed call in place (a late allow of its retry); unlisted calls are left alone. */
  update: (callId: string, change: Partial<CallRow>) => void
}

/** Loads calls matching `filter` (already cleaned) and keeps them live. */
export function useCallLog(filter: AuditFilter): CallLog {
  const api = useApi()
  const [rows, setRows] = useState<readonly CallRow[]>([])
  const [hasMore, setHasMore] = useState(false)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<string | undefined>(undefined)
  const [tick, setTick] = useState(0)
  // A first page is due: the list starts empty and loading (live rows that arrive meanwhile stay).
  const startOver = useCallback((): void => {
    setLoading(true)
    setError(undefined)
    setRows([])
    setHasMore(false)
  }, [])
  // Another filter (or api) starts over from this render on; reload() starts over itself.
  const [shown, setShown] = useState({ api, filter })
  if (shown.api !== api || shown.filter !== filter) {
    setShown({ api, filter })
    startOver()
  }
  const generation = useRef(0)
  const busy = useRef(false)
  const rowsRef = useRef(rows)
  const filterRef = useRef(filter)
  useLayoutEffect(() => {
    rowsRef.current = rows
    filterRef.current = filter
  })

  // First page whenever the filter changes.
  useEffect(() => {
    const mine = ++generation.current
    busy.current = true
    api.audit.query({ filter, limit: PAGE_SIZE }).then(
      (page) => {
        if (mine !== generation.current) return
        busy.current = false
        // Live rows that arrived while loading are kept if the page does not have them.
        setRows((live) => {
          const seen = new Set(page.rows.map((r) => r.callId))
          return [...live.filter((r) => !seen.has(r.callId)), ...page.rows]
        })
        setHasMore(page.hasMore)
        setLoading(false)
      },
      (err: unknown) => {
        if (mine !== generation.current) return
        busy.current = false
        setError(errorMessage(err))
        setLoading(false)
      },
    )
  }, [api, filter, tick])

  const loadMore = useCallback(() => {
    const current = rowsRef.current
    if (busy.current || current.length === 0) return
    const mine = generation.current
    busy.current = true
    setLoading(true)
    let beforeSeq = Infinity
    for (const r of current) if (r.seq < beforeSeq) beforeSeq = r.seq
    api.audit.query({ filter: filterRef.current, limit: MORE_SIZE, beforeSeq }).then(
      (page) => {
        if (mine !== generation.current) return
        busy.current = false
        setRows((prev) => {
          const seen = new Set<string>()
          // Only the tail can overlap with the next page.
          for (let i = Math.max(0, prev.length - MORE_SIZE); i < prev.length; i++)
            seen.add(prev[i]!.callId)
          return [...prev, ...page.rows.filter((r) => !seen.has(r.callId))]
        })
        setHasMore(page.hasMore)
        setLoading(false)
      },
      (err: unknown) => {
        if (mine !== generation.current) return
        busy.current = false
        setError(errorMessage(err))
        setLoading(false)
      },
    )
  }, [api])

  // Live rows, flushed at most every 50 ms.
  useEffect(() => {
    let queue: CallRow[] = []
    let timer: ReturnType<typeof setTimeout> | undefined
    const flush = (): void => {
      timer = undefined
      const batch = queue
      queue = []
      setRows((prev) => applyLive(prev, batch, filterRef.current))
    }
    const off = api.on('audit.appended', (row) => {
      queue.push(row)
      timer ??= setTimeout(flush, 50)
    })
    return () => {
      off()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [api])

  const update = useCallback((callId: string, change: Partial<CallRow>) => {
    setRows((prev) => {
      const i = prev.findIndex((r) => r.callId === callId)
      if (i < 0) return prev
      const next = [...prev]
      next[i] = { ...prev[i]!, ...change }
      return next
    })
  }, [])

  // A call changed without a new record (its retry was allowed late, from here or elsewhere).
  useEffect(
    () => api.on('call.updated', (u) => update(u.callId, u.retry ? { retry: u.retry } : {})),
    [api, update],
  )

  const reload = useCallback(() => {
    startOver()
    setTick((t) => t + 1)
  }, [startOver])
  return useMemo(
    () => ({ rows, hasMore, loading, error, loadMore, reload, update }),
    [rows, hasMore, loading, error, loadMore, reload, update],
  )
}
