import { describe, expect, it, vi } from 'vitest'
import {
  ApprovalCenter,
  DENY_MESSAGE_MAX,
  cleanDenyMessage,
  type ApprovalAnswer,
  type Approver,
  type PendingApproval,
} from '../../../src/gateway/approvals/approvals'

const fields = {
  session: 's',
  client: 'agent',
  server: 'mail',
  tool: 'send',
  argsExcerpt: '{}',
  argsDigest: 'd',
}

/** An approver that answers when told to. */
function manual(name = 'manual'): Approver & {
  asked: PendingApproval[]
  answer: (a: ApprovalAnswer | undefined) => void
  aborted: boolean[]
} {
  const resolvers: ((a: ApprovalAnswer | undefined) => void)[] = []
  const self = {
    name,
    asked: [] as PendingApproval[],
    aborted: [] as boolean[],
    ask(req: PendingApproval, signal: AbortSignal) {
      self.asked.push(req)
      const i = self.aborted.push(false) - 1
      signal.addEventListener('abort', () => (self.aborted[i] = true))
      return new Promise<ApprovalAnswer | undefined>((r) => resolvers.push(r))
    },
    answer(a: ApprovalAnswer | undefined) {
      resolvers.shift()?.(a)
    },
  }
  return self
}

describe('ApprovalCenter', () => {
  it('with no approver, denies at once', async () => {
    const c = new ApprovalCenter()
    await expect(c.request(fields, 1000, new AbortController().signal)).resolves.toEqual({
      answer: 'no_approver',
      by: 'gateway',
    })
  })

  it('the first answer wins and names who gave it; later answers are ignored', async () => {
    const c = new ApprovalCenter()
    const a = manual('terminal')
    c.addApprover(a)
    c.attachUi()
    const resolved = vi.fn()
    c.on('resolved', resolved)
    const p = c.request(fields, 10_000, new AbortController().signal)
    expect(c.list()).toHaveLength(1)
    const id = c.list()[0]!.id
    expect(c.decide(id, 'allow_session', 'web UI')).toBe('ok')
    await expect(p).resolves.toEqual({ answer: 'allow_session', by: 'web UI' })
    expect(a.aborted[0]).toBe(true) // the terminal prompt is withdrawn
    a.answer('deny')
    expect(c.decide(id, 'deny', 'web UI')).toBe('unknown')
    expect(resolved).toHaveBeenCalledTimes(1)
    expect(c.list()).toHaveLength(0)
  })

  it('an approver answer is recorded with its name', async () => {
    const c = new ApprovalCenter()
    const a = manual('dialog')
    c.addApprover(a)
    const p = c.request(fields, 10_000, new AbortController().signal)
    a.answer('allow_once')
    await expect(p).resolves.toEqual({ answer: 'allow_once', by: 'dialog' })
  })

  it('times out, and a late allow is reported once for a single-use grant', async () => {
    vi.useFakeTimers()
    try {
      let now = 0
      const c = new ApprovalCenter(() => now)
      c.attachUi()
      const late = vi.fn()
      c.on('late', late)
      const p = c.request(fields, 45_000, new AbortController().signal)
      const id = c.list()[0]!.id
      now = 45_000
      vi.advanceTimersByTime(45_000)
      await expect(p).resolves.toEqual({ answer: 'timeout', by: 'gateway' })
      expect(c.decide(id, 'allow_once', 'web UI')).toBe('late')
      expect(late).toHaveBeenCalledWith(
        expect.objectContaining({
          answer: 'allow_once',
          req: expect.objectContaining({ tool: 'send', argsDigest: 'd' }),
        }),
      )
      expect(c.decide(id, 'allow_once', 'web UI')).toBe('unknown')
    } finally {
      vi.useRealTimers()
    }
  })

  it('a late answer after the late window is unknown', async () => {
    vi.useFakeTimers()
    try {
      let now = 0
      const c = new ApprovalCenter(() => now, 60_000)
      c.attachUi()
      const p = c.request(fields, 1000, new AbortController().signal)
      const id = c.list()[0]!.id
      now = 1000
      vi.advanceTimersByTime(1000)
      await p
      now = 61_001
      expect(c.decide(id, 'allow_once', 'web UI')).toBe('unknown')
    } finally {
      vi.useRealTimers()
    }
  })

  it('allowRetry: a timed-out call is allowed late by its call id, once, within the window', async () => {
    vi.useFakeTimers()
    try {
      let now = 0
      const c = new ApprovalCenter(() => now, 60_000)
      c.attachUi()
      const late = vi.fn()
      const retry = vi.fn()
      c.on('late', late)
      c.on('retry', retry)
      const p = c.request({ ...fields, callId: 'c1' }, 1000, new AbortController().signal)
      expect(c.retryState('c1')).toBeUndefined() // still pending: nothing to allow late
      now = 1000
      vi.advanceTimersByTime(1000)
      await p
      expect(c.retryState('c1')).toEqual({ until: 61_000 })
      expect(c.allowRetry('c1', 'web UI')).toEqual({ until: 61_000, allowedBy: 'web UI' })
      expect(late).toHaveBeenCalledWith(
        expect.objectContaining({ answer: 'allow_once', by: 'web UI' }),
      )
      expect(retry).toHaveBeenCalledWith({
        callId: 'c1',
        state: { until: 61_000, allowedBy: 'web UI' },
      })
      expect(() => c.allowRetry('c1', 'web UI')).toThrow(/already allowed by web UI/)
      expect(late).toHaveBeenCalledTimes(1)
      now = 61_000
      expect(c.retryState('c1')).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  it('allowRetry: a call denied with no approver can be allowed late too; not after the window, not an unknown call', async () => {
    let now = 0
    const c = new ApprovalCenter(() => now, 60_000)
    await expect(
      c.request({ ...fields, callId: 'c2' }, 1000, new AbortController().signal),
    ).resolves.toMatchObject({ answer: 'no_approver' })
    expect(c.retryState('c2')).toEqual({ until: 60_000 })
    expect(() => c.allowRetry('nope', 'web UI')).toThrow(/cannot be allowed late/)
    now = 60_000
    expect(() => c.allowRetry('c2', 'web UI')).toThrow(/window for a late allow \(1 minutes/)
  })

  it('a late allow through decide marks the call allowed; a late deny closes it', async () => {
    vi.useFakeTimers()
    try {
      const c = new ApprovalCenter()
      c.attachUi()
      const ids: string[] = []
      const ps = ['a', 'b'].map((callId) => {
        const p = c.request({ ...fields, callId }, 1000, new AbortController().signal)
        ids.push(c.list().at(-1)!.id)
        return p
      })
      vi.advanceTimersByTime(1000)
      await Promise.all(ps)
      expect(c.decide(ids[0]!, 'allow_once', 'dialog')).toBe('late')
      expect(c.retryState('a')).toMatchObject({ allowedBy: 'dialog' })
      expect(c.decide(ids[1]!, 'deny', 'dialog')).toBe('late')
      expect(c.retryState('b')).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  it('an aborted call withdraws the request', async () => {
    const c = new ApprovalCenter()
    const a = manual()
    c.addApprover(a)
    const ctl = new AbortController()
    const p = c.request(fields, 10_000, ctl.signal)
    ctl.abort()
    await expect(p).resolves.toEqual({ answer: 'cancelled', by: 'gateway' })
    expect(a.aborted[0]).toBe(true)
    expect(c.list()).toHaveLength(0)
  })

  it('a request survives its last approver going away: it waits for one that comes back', async () => {
    const c = new ApprovalCenter()
    const detach = c.attachUi()
    const p = c.request(fields, 10_000, new AbortController().signal)
    detach() // the tab was closed or reloaded
    expect(c.list()).toHaveLength(1)
    // A terminal approver that connects later is asked about it, and answers.
    c.addApprover({ name: 'terminal', ask: () => Promise.resolve('allow_once') })
    await expect(p).resolves.toEqual({ answer: 'allow_once', by: 'terminal' })
  })

  it('a deny carries the person’s message to the outcome, cleaned; a message with an allow is refused', async () => {
    const c = new ApprovalCenter()
    c.attachUi()
    const p = c.request(fields, 10_000, new AbortController().signal)
    const [req] = c.list()
    expect(() => c.decide(req!.id, 'allow_once', 'ui', 'hi')).toThrow(/"deny" only/)
    expect(c.list()).toHaveLength(1)
    expect(c.decide(req!.id, 'deny', 'ui', ' use\n\u001b[31mstaging\u2028 ')).toBe('ok')
    await expect(p).resolves.toEqual({ answer: 'deny', by: 'ui', message: 'use [31mstaging' })
  })
})

describe('cleanDenyMessage', () => {
  it('flattens control characters, trims, cuts long text and drops an empty one', () => {
    expect(cleanDenyMessage(undefined)).toBeUndefined()
    expect(cleanDenyMessage(' \n\t ')).toBeUndefined()
    expect(cleanDenyMessage('a\r\nb')).toBe('a b')
    const long = cleanDenyMessage('x'.repeat(2000))
    expect(long).toHaveLength(DENY_MESSAGE_MAX)
    expect(long?.endsWith('…')).toBe(true)
  })
})
