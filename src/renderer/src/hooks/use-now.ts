/** A ticking clock for countdowns. */
import { useMemo, useSyncExternalStore } from 'react'

/** `Date.now()`, refreshed every `intervalMs` while `active`. */
export function useNow(intervalMs: number, active = true): number {
  const clock = useMemo(() => ticking(intervalMs, active), [intervalMs, active])
  return useSyncExternalStore(clock.subscribe, clock.now)
}

/** The clock as an external store: read when created (a render with new arguments), then on each tick. */
function ticking(intervalMs: number, active: boolean) {
  let now = Date.now()
  return {
    now: () => now,
    subscribe(changed: () => void): () => void {
      if (!active) return () => {}
      const timer = setInterval(() => {
        now = Date.now()
        changed()
      }, intervalMs)
      return () => clearInterval(timer)
    },
  }
}
