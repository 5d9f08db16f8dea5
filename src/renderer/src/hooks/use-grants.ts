/**
 * The grants (remembered approvals), live: reloaded when one is added, used or revoked
 * (`grants.changed`) and when the next one expires. Shared by the Approvals screen's list and
 * the tool rows of Tools & policy, so both show the same grants with the same Revoke.
 */
import { useCallback, useEffect, useState } from 'react'
import type { GrantView } from '../../../shared/contract/control-api'
import { useApi } from '../api-context'
import { errorMessage } from '../format'
import { useApiEvent } from './use-api-event'
import { useResource } from './use-resource'

/** What `useGrants` gives. `revokeError` is the last failed revoke's words. */
export interface GrantsState {
  list: readonly GrantView[]
  loading: boolean
  error: string | undefined
  reload: () => void
  revoke: (id: string) => Promise<void>
  revokeError: string | undefined
}

/** Loads the grants and keeps them live. */
export function useGrants(): GrantsState {
  const api = useApi()
  const grants = useResource(() => api.grants.list(), [api])
  const [revokeError, setRevokeError] = useState<string | undefined>(undefined)
  const reload = grants.reload
  useApiEvent('grants.changed', reload)
  // A grant with an expiry leaves the list when it expires.
  const nextExpiry = Math.min(...(grants.data ?? []).map((g) => g.until ?? Infinity))
  useEffect(() => {
    if (!Number.isFinite(nextExpiry)) return
    const t = setTimeout(reload, Math.max(0, nextExpiry - Date.now()) + 500)
    return () => clearTimeout(t)
  }, [nextExpiry, reload])

  const revoke = useCallback(
    async (id: string): Promise<void> => {
      setRevokeError(undefined)
      try {
        await api.grants.revoke({ id })
      } catch (err) {
        setRevokeError(errorMessage(err))
      }
      reload()
    },
    [api, reload],
  )
  return {
    list: grants.data ?? [],
    loading: grants.loading && !grants.data,
    error: grants.error,
    reload,
    revoke,
    revokeError,
  }
}
