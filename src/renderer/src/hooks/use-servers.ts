/**
 * The configured servers and their status for the whole window (the header's "failing"
 * indicator, the first-run guide): `servers.list` at start, after a reconnection, and shortly
 * after `servers.changed` or `sessions.changed` (a burst of changes is one reload).
 */
import { useEffect, useState } from 'react'
import type { AirlockApi, ServerView } from '../../../shared/contract/control-api'

/** The latest list, or undefined until the first answer (or when the gateway cannot say). */
export function useServers(api: AirlockApi, generation: number): readonly ServerView[] | undefined {
  const [list, setList] = useState<readonly ServerView[] | undefined>(undefined)
  useEffect(() => {
    let live = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const load = (): void => {
      timer = undefined
      api.servers.list().then(
        (l) => {
          if (live) setList(l)
        },
        // A hint only: the Servers screen shows the error itself.
        () => undefined,
      )
    }
    const soon = (): void => {
      timer ??= setTimeout(load, 300)
    }
    const offServers = api.on('servers.changed', soon)
    const offSessions = api.on('sessions.changed', soon)
    load()
    return () => {
      live = false
      offServers()
      offSessions()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [api, generation])
  return list
}
