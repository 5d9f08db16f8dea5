/** Shared fakes for the Electron adapter tests. */
import type { PendingApproval } from '../../../src/gateway/approvals/approvals'

/** A pending approval request. */
export function request(over: Partial<PendingApproval> = {}): PendingApproval {
  return {
    id: over.id ?? 'req-1',
    session: 's1',
    client: 'claude-desktop',
    server: 'mail',
    tool: 'send_email',
    argsExcerpt: '{"to":"a@example.com"}',
    argsDigest: 'd1',
    rule: 'approve-sends',
    risk: 'critical',
    requestedAt: 1_000,
    deadline: 46_000,
    ...over,
  }
}

/** A promise with its resolve exposed. */
export function deferred<T>(): {
  promise: Promise<T>
  resolve: (v: T) => void
  reject: (e: unknown) => void
} {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}
