/**
 * The clients' protection summary for the whole window (the header's badge): `clients.status`
 * at start and after a reconnection, then every `clients.changed` (drift, a wrap, a restore).
 */
import { useEffect, useState } from 'react'
import type { AirlockApi, ClientsStatus } from '../../../shared/contract/control-api'

/** The latest summary, or undefined until the first answer (or when the gateway cannot say). */
export function useClientsStatus(api: AirlockApi, generation: number): ClientsStatus | undefined {
  const [status, setStatus] = useState<ClientsStatus | undefined>(undefined)
  useEffect(() => {
    let live = true
    const off = api.on('clients.changed', (s) => setStatus(s))
    api.clients.status().then(
      (s) => {
        if (live) setStatus(s)
      },
      // The badge is a hint: the Clients screen shows the error itself.
      () => undefined,
    )
    return () => {
      live = false
      off()
    }
  }, [api, generation])
  return status
}
