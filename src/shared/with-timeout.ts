/** A promise with a deadline. */

/**
 * `p`, or a rejection with `timeout()` when it has not settled within `ms`. A rejection of `p` that
 * is not an `Error` is wrapped in one. The timer never outlives the race.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}
