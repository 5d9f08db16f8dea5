/** A value that follows another after it has been still for a while (typing in a search box). */
import { useEffect, useState } from 'react'

/** `value`, updated `delayMs` after its last change. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs)
    return () => clearTimeout(timer)
  }, [value, delayMs])
  return settled
}
