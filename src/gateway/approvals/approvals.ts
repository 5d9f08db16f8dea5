/**
 * The approval center: one pending request per held `tools/call`, answered by whichever
 * approver answers first (terminal prompt, web UI, desktop dialog); later answers are ignored.
 * No approver connected when the call arrives, a timeout or a withdrawn call → not allowed. A
 * request survives its approvers leaving (a reloaded or closed tab): it waits until its deadline
 * for any approver, and one that connects later sees it in `list()`. A call denied for want of an
 * answer (a timeout, or no approver at all) can be allowed late, within `lateWindowMs`: by the
 * request's id (`decide`) or by the call's id (`allowRetry`, the Activity row's "Allow the retry").
 * The `late` event then leaves a single-use grant so that an identical retry passes.
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { FieldChange } from '../../shared/tool-pins'

/**
 * How a person answered. `allow_hour`: this tool on this server, any arguments, from any session,
 * for {@link ALLOW_HOUR_MS} (a grant that expires on its own).
 */
export type ApprovalAnswer = 'allow_once' | 'allow_session' | 'allow_hour' | 'allow_always' | 'deny'

/** How long an `allow_hour` answer lets the tool through. */
export const ALLOW_HOUR_MS = 60 * 60_000

/** The longest message a person may send the agent with a deny (longer ones are cut). */
export const DENY_MESSAGE_MAX = 500

/**
 * A person's message to the agent, made safe to show it: control characters (line breaks
 * included) become spaces, runs of spaces one, and it is cut to {@link DENY_MESSAGE_MAX}.
 * Undefined when nothing is left.
 */
export function cleanDenyMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const flat = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
  const text = flat.replace(/\s+/g, ' ').trim()
  if (text === '') return undefined
  return text.length > DENY_MESSAGE_MAX ? `${text.slice(0, DENY_MESSAGE_MAX - 1)}…` : text
}

/** How a request ended. `message`: what the person told the agent with a deny. */
export type ApprovalOutcome =
  | { answer: ApprovalAnswer; by: string; message?: string }
  | { answer: 'timeout' | 'cancelled' | 'no_approver'; by: 'gateway' }
  /** The gateway stopped before anyone answered; `why` says how (e.g. it handed over). */
  | { answer: 'shutdown'; by: 'gateway'; why: string }

/** A pending request as shown to people (args already escaped and cut). */
export interface PendingApproval {
  id: string
  session: string
  client: string
  server: string
  tool: string
  argsExcerpt: string
  argsDigest: string
  rule?: string
  reason?: string
  risk?: string
  /**
   * Set when the tool's definition changed since it was pinned (setting `pinning: approve`):
   * when it was pinned and what changed (each text cut to 2 000 characters). Allow always
   * accepts the new definition.
   */
  pin?: { pinnedAt: string; changes: FieldChange[] }
  requestedAt: number
  deadline: number
  /** The held call's id in the audit log (links the request to its Activity row). */
  callId?: string
  /**
   * Set when the server asks the client (not a tool call): `tool` holds the request's method and
   * `argsExcerpt` its params. Only Allow once and Deny apply: no grant is made.
   */
  serverRequest?: 'sampling' | 'elicitation' | 'roots'
}

/** A denied call that may still be allowed late: until when, and who allowed its retry. */
export interface RetryState {
  until: number
  allowedBy?: string
}

/** Why a late allow of a call's retry was refused. */
export class RetryError extends Error {
  override name = 'RetryError'
  constructor(
    message: string,
    readonly code: 'UNKNOWN' | 'EXPIRED' | 'ALREADY',
  ) {
    super(message)
  }
}

/** The most denied calls remembered for a late allow (oldest dropped first). */
const LATE_MAX = 2000

/** Something that can ask a person (the terminal prompt, a native dialog). */
export interface Approver {
  /** Who answers, as recorded in the audit log (e.g. "terminal", "dialog"). */
  readonly name?: string
  /** Asks about `req`; resolves with an answer, or undefined when it gave up. Must stop asking when `signal` aborts. */
  ask(req: PendingApproval, signal: AbortSignal): Promise<ApprovalAnswer | undefined>
}

interface Entry {
  req: PendingApproval
  resolve: (o: ApprovalOutcome) => void
  abort: AbortController
  timer: NodeJS.Timeout
}

interface LateEntry {
  req: PendingApproval
  until: number
  allowedBy?: string
}

/**
 * Events: `requested` (PendingApproval), `resolved` ({ id, outcome }), `late` ({ req, answer,
 * by }) and `retry` ({ callId, state }) when a call's retry was allowed late.
 */
export class ApprovalCenter extends EventEmitter {
  private readonly pending = new Map<string, Entry>()
  /** Calls denied for want of an answer, by request id, oldest first. */
  private readonly late = new Map<string, LateEntry>()
  /** The same entries by the call's id. */
  private readonly lateByCall = new Map<string, string>()
  private readonly approvers = new Set<Approver>()
  private uiCount = 0

  /**
   * `lateWindowMs`: how long after a timeout (or a denial with no approver) the call can still be
   * allowed late; the agent is told this window.
   */
  constructor(
    private readonly now: () => number = Date.now,
    readonly lateWindowMs = 10 * 60_000,
  ) {
    super()
  }

  /** Registers an approver; returns its removal. It is asked about requests already waiting too. */
  addApprover(a: Approver): () => void {
    this.approvers.add(a)
    for (const e of this.pending.values()) this.ask(a, e)
    return () => {
      this.approvers.delete(a)
    }
  }

  /** Counts a connected UI that answers through `decide`; returns its detach. */
  attachUi(): () => void {
    this.uiCount++
    let done = false
    return () => {
      if (!done) this.uiCount--
      done = true
    }
  }

  /** Whether anyone can answer right now. */
  hasApprover(): boolean {
    return this.approvers.size > 0 || this.uiCount > 0
  }

  /** The requests waiting for an answer, oldest first. */
  list(): PendingApproval[] {
    return [...this.pending.values()].map((e) => e.req)
  }

  /**
   * Asks for approval. Resolves once: first answer, timeout, `signal` abort, or at once with
   * `no_approver` when nobody can answer.
   */
  request(
    fields: Omit<PendingApproval, 'id' | 'requestedAt' | 'deadline'>,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<ApprovalOutcome> {
    const now = this.now()
    const req: PendingApproval = {
      ...fields,
      id: randomUUID(),
      requestedAt: now,
      deadline: now + timeoutMs,
    }
    if (!this.hasApprover()) {
      this.remember(req)
      return Promise.resolve({ answer: 'no_approver', by: 'gateway' })
    }
    if (signal.aborted) return Promise.resolve({ answer: 'cancelled', by: 'gateway' })
    return new Promise<ApprovalOutcome>((resolve) => {
      const abort = new AbortController()
      const timer = setTimeout(
        () => this.finish(req.id, { answer: 'timeout', by: 'gateway' }),
        timeoutMs,
      )
      this.pending.set(req.id, { req, resolve, abort, timer })
      signal.addEventListener(
        'abort',
        () => this.finish(req.id, { answer: 'cancelled', by: 'gateway' }),
        { once: true },
      )
      this.emit('requested', req)
      const entry = this.pending.get(req.id) as Entry
      for (const a of this.approvers) this.ask(a, entry)
    })
  }

  private ask(a: Approver, e: Entry): void {
    a.ask(e.req, e.abort.signal).then(
      (answer) => answer && this.decide(e.req.id, answer, a.name ?? 'approver'),
      () => undefined,
    )
  }

  /**
   * Answers a request. Returns 'ok' when this answer decided it, 'late' when it came after a
   * timeout (an allow then leaves a single-use grant via the `late` event), 'unknown' otherwise.
   * `message` goes with a deny to the agent (cleaned by {@link cleanDenyMessage}); it is refused
   * with any other answer.
   */
  decide(
    id: string,
    answer: ApprovalAnswer,
    by: string,
    message?: string,
  ): 'ok' | 'late' | 'unknown' {
    if (message !== undefined && answer !== 'deny')
      throw new Error(`a message goes with "deny" only (got answer "${answer}")`)
    if (this.pending.has(id)) {
      const text = cleanDenyMessage(message)
      this.finish(id, text === undefined ? { answer, by } : { answer, by, message: text })
      return 'ok'
    }
    const late = this.late.get(id)
    if (late && late.until > this.now() && late.allowedBy === undefined) {
      if (answer === 'deny') this.forget(id)
      else this.allowLate(late, by)
      this.emit('late', { req: late.req, answer, by })
      return 'late'
    }
    return 'unknown'
  }

  /**
   * Allows the retry of a call that was denied for want of an answer (timed out, or no approver),
   * within the late window: an identical retry then passes once, without asking. Throws a
   * RetryError that says why when it cannot.
   */
  allowRetry(callId: string, by: string): RetryState {
    const id = this.lateByCall.get(callId)
    const late = id === undefined ? undefined : this.late.get(id)
    if (!late || id === undefined)
      throw new RetryError(
        'this call cannot be allowed late: only a call denied because nobody answered in time (or no approver was open) can, and only while the gateway that denied it runs',
        'UNKNOWN',
      )
    if (late.allowedBy !== undefined)
      throw new RetryError(
        `the retry of this call was already allowed by ${late.allowedBy}`,
        'ALREADY',
      )
    if (late.until <= this.now())
      throw new RetryError(
        `the window for a late allow (${Math.round(this.lateWindowMs / 60_000)} minutes after the denial) has passed; ask the agent to call again and answer the new request`,
        'EXPIRED',
      )
    this.allowLate(late, by)
    this.emit('late', { req: late.req, answer: 'allow_once', by })
    return this.retryState(callId) as RetryState
  }

  /** Whether a call's retry can be (or was) allowed late, and until when; undefined otherwise. */
  retryState(callId: string): RetryState | undefined {
    const id = this.lateByCall.get(callId)
    const late = id === undefined ? undefined : this.late.get(id)
    if (!late || late.until <= this.now()) return undefined
    return late.allowedBy === undefined
      ? { until: late.until }
      : { until: late.until, allowedBy: late.allowedBy }
  }

  private allowLate(late: LateEntry, by: string): void {
    late.allowedBy = by
    if (late.req.callId !== undefined)
      this.emit('retry', { callId: late.req.callId, state: this.retryState(late.req.callId) })
  }

  /** Keeps a request that ended unanswered, for a late allow within the window. */
  private remember(req: PendingApproval): void {
    const now = this.now()
    for (const [k, v] of this.late) {
      if (v.until > now && this.late.size < LATE_MAX) break
      this.forget(k)
    }
    this.late.set(req.id, { req, until: now + this.lateWindowMs })
    if (req.callId !== undefined) this.lateByCall.set(req.callId, req.id)
  }

  private forget(id: string): void {
    const late = this.late.get(id)
    this.late.delete(id)
    if (late?.req.callId !== undefined) this.lateByCall.delete(late.req.callId)
  }

  /** Ends every pending request unanswered: the gateway stops, for `why` (no person denied it). */
  endAll(why: string): void {
    for (const id of [...this.pending.keys()])
      this.finish(id, { answer: 'shutdown', by: 'gateway', why })
  }

  private finish(id: string, outcome: ApprovalOutcome): void {
    const e = this.pending.get(id)
    if (!e) return
    this.pending.delete(id)
    clearTimeout(e.timer)
    e.abort.abort()
    if (outcome.answer === 'timeout') this.remember(e.req)
    this.emit('resolved', { id, outcome })
    e.resolve(outcome)
  }
}
