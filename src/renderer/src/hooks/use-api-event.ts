/** Subscribes a component to one control event for as long as it is mounted. */
import { useEffect, useLayoutEffect, useRef } from 'react'
import type { ControlEvent, EventOf } from '../../../shared/contract/control-api'
import { useApi } from '../api-context'

/** Calls the latest `listener` on every `event`; unsubscribes on unmount. */
export function useApiEvent<E extends ControlEvent>(
  event: E,
  listener: (data: EventOf<E>) => void,
): void {
  const api = useApi()
  const latest = useRef(listener)
  useLayoutEffect(() => {
    latest.current = listener
  })
  useEffect(() => api.on(event, (data) => latest.current(data)), [api, event])
}
