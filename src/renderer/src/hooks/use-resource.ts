/** Loading state for one API read: data, error and a reload that keeps the old data meanwhile. */
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type DependencyList,
} from 'react'
import { errorMessage } from '../format'

/** What `useResource` gives: the last data, the last error, whether a load runs, and reload. */
export interface Resource<T> {
  data: T | undefined
  error: string | undefined
  loading: boolean
  reload: () => void
  /** Replaces the data locally (after a write whose result is the new value). */
  set: (data: T) => void
}

/** Runs `load` on mount, when `deps` change and on `reload()`; answers of stale loads are dropped. */
export function useResource<T>(load: () => Promise<T>, deps: DependencyList): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  // New deps start a load: it shows as loading from this render on (reload() says so itself).
  const [loadedDeps, setLoadedDeps] = useState(deps)
  if (!sameDeps(loadedDeps, deps)) {
    setLoadedDeps(deps)
    setLoading(true)
  }
  const generation = useRef(0)
  const latest = useRef(load)
  useLayoutEffect(() => {
    latest.current = load
  })

  useEffect(() => {
    const mine = ++generation.current
    latest.current().then(
      (value) => {
        if (mine !== generation.current) return
        setData(value)
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (mine !== generation.current) return
        setError(errorMessage(err))
        setLoading(false)
      },
    )
    // The caller's deps decide when to load again (plus reload()): that is this hook's contract.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick])

  const reload = useCallback(() => {
    setLoading(true)
    setTick((t) => t + 1)
  }, [])
  const set = useCallback((value: T) => {
    generation.current++
    setData(value)
    setError(undefined)
    setLoading(false)
  }, [])
  return { data, error, loading, reload, set }
}

function sameDeps(a: DependencyList, b: DependencyList): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]))
}
