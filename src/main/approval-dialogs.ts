/**
 * Native approval dialogs: one at a time, the rest queued, each closed through its AbortSignal
 * when the request is answered elsewhere, times out or is withdrawn. Deny is the default and
 * the cancel button. The dialog function is injected (Electron's `dialog.showMessageBox` in the
 * app, a fake in tests), so nothing here imports `electron`.
 */
import type { ApprovalAnswer, PendingApproval } from '../gateway/approvals/approvals'
import { ALWAYS_SCOPE, ANSWER_LABELS, answersFor } from '../shared/approval-answers'
import { escapeUnsafe, excerpt } from '../shared/text'

/** The subset of Electron's MessageBoxOptions the dialog uses. */
export interface DialogOptions {
  type: 'warning'
  title: string
  message: string
  detail: string
  buttons: string[]
  defaultId: number
  cancelId: number
  noLink: boolean
}

/** Shows a message box; closes it when `signal` aborts. Resolves with the clicked button's index. */
export type ShowMessageBox = (
  options: DialogOptions,
  signal: AbortSignal,
) => Promise<{ response: number }>

/** Shows a desktop notification. */
export type Notify = (title: string, body: string) => void

/** The dialog's buttons, in order (the card's answers, in its words); the index is the `response`. */
export const DIALOG_BUTTONS: readonly string[] = ANSWER_LABELS.map((a) => a.label)
const RESPONSES: readonly ApprovalAnswer[] = ANSWER_LABELS.map((a) => a.answer)

/** The buttons of the dialog that confirms "Always": Cancel (the default) goes back to the question. */
export const CONFIRM_BUTTONS = ['Cancel', 'Yes, always allow'] as const

/** Bytes of argument text a dialog shows at most. */
export const ARGS_MAX_BYTES = 1024

/**
 * Maps a dialog response to an answer; anything unknown is a deny. A server request's dialog
 * has only Deny and Allow once.
 */
export function answerFor(
  response: number,
  req?: Pick<PendingApproval, 'serverRequest'>,
): ApprovalAnswer {
  return (req ? answersFor(req)[response]?.answer : RESPONSES[response]) ?? 'deny'
}

/** Cuts text to at most `maxBytes` of UTF-8, marking the cut. Never splits a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  const enc = new TextEncoder()
  if (enc.encode(text).length <= maxBytes) return text
  const marker = '…'
  let out = ''
  let used = enc.encode(marker).length
  for (const ch of text) {
    const n = enc.encode(ch).length
    if (used + n > maxBytes) break
    out += ch
    used += n
  }
  return out + marker
}

/** A time of day, 24-hour `HH:MM:SS` in local time: when the call is denied without an answer. */
export function clock(ms: number): string {
  const d = new Date(ms)
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':')
}

/** A short, escaped one-line label from agent- or server-written text. */
function label(text: string, max = 120): string {
  return cutToBytes(escapeUnsafe(text), max)
}

/** The dialog for a request: who wants what, its risk and rule, and an escaped argument excerpt (≤ 1 KB). */
export function dialogOptions(req: PendingApproval, now: number): DialogOptions {
  const secs = Math.max(0, Math.round((req.deadline - now) / 1000))
  const args = cutToBytes(excerpt(req.argsExcerpt, ARGS_MAX_BYTES), ARGS_MAX_BYTES)
  const lines = [
    `Risk: ${req.risk ? label(req.risk, 32) : 'unclassified'}`,
    `Rule: ${req.rule ? label(req.rule) : '(policy default)'}`,
    ...(req.reason ? [`Reason: ${label(req.reason, 300)}`] : []),
    ...(req.pin
      ? [
          '',
          `The tool changed since it was pinned on ${label(req.pin.pinnedAt.slice(0, 10), 16)}; "Always" accepts the new definition.`,
          ...req.pin.changes.flatMap((c) => [
            `${c.field} was: ${label(c.old || '(none)', 300)}`,
            `${c.field} now: ${label(c.new || '(none)', 300)}`,
          ]),
        ]
      : []),
    '',
    req.serverRequest ? 'What the server asks:' : 'Arguments:',
    args || '(none)',
    '',
    `Denied at ${clock(req.deadline)} without an answer (in ${secs} s).`,
  ]
  return {
    type: 'warning',
    title: req.serverRequest
      ? `Airlock — let the server's ${req.serverRequest} request through?`
      : 'Airlock — approve tool call?',
    message: req.serverRequest
      ? `${label(req.server)} sends ${label(req.client)} a ${req.serverRequest} request (${label(req.tool)})`
      : `${label(req.client)} wants to run ${label(req.tool)} on ${label(req.server)}`,
    detail: lines.join('\n'),
    buttons: req.serverRequest ? answersFor(req).map((a) => a.label) : [...DIALOG_BUTTONS],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  }
}

/** The dialog that confirms "Always", stating its scope. */
export function confirmAlwaysOptions(req: PendingApproval): DialogOptions {
  return {
    type: 'warning',
    title: 'Airlock — always allow?',
    message: `Always allow ${label(req.tool)} on ${label(req.server)}?`,
    detail: `Calls of this tool will run without asking: ${ALWAYS_SCOPE} in Tools & policy.`,
    buttons: [...CONFIRM_BUTTONS],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  }
}

interface Item {
  req: PendingApproval
  signal: AbortSignal
  resolve: (answer: ApprovalAnswer | undefined) => void
  settled: boolean
}

/**
 * The dialog queue. `ask` has the gateway's Approver contract: it resolves with the person's
 * answer, or undefined when the request was withdrawn first (a late click is ignored).
 */
export class ApprovalDialogs {
  private readonly queue: Item[] = []
  private current?: { item: Item; close: AbortController }
  /** Requests seen recently, to name them in a timeout notification. */
  private readonly known = new Map<string, PendingApproval>()

  constructor(
    private readonly show: ShowMessageBox,
    private readonly notify: Notify,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many requests are showing or waiting. */
  get size(): number {
    return this.queue.length + (this.current ? 1 : 0)
  }

  /** Shows a dialog for `req` once earlier ones are done; closes it when `signal` aborts. */
  ask(req: PendingApproval, signal: AbortSignal): Promise<ApprovalAnswer | undefined> {
    if (signal.aborted) return Promise.resolve(undefined)
    this.known.set(req.id, req)
    return new Promise((resolve) => {
      const item: Item = { req, signal, resolve, settled: false }
      signal.addEventListener('abort', () => this.withdraw(item), { once: true })
      this.queue.push(item)
      this.next()
    })
  }

  /**
   * Learns how a request ended (the `approval.resolved` event). A timeout gets a notification:
   * the call was denied because nobody answered.
   */
  resolved(id: string, outcome: { answer: string; by?: string }): void {
    const req = this.known.get(id)
    this.known.delete(id)
    if (req && outcome.answer === 'timeout') {
      this.notify(
        'Airlock denied a tool call',
        `${label(req.tool)} on ${label(req.server)} (from ${label(req.client)}) was denied: nobody answered in time.`,
      )
    }
  }

  /** Closes every dialog, answering nothing (the app is quitting or the gateway went away). */
  closeAll(): void {
    for (const item of this.queue.splice(0)) this.settle(item, undefined)
    if (this.current) this.withdraw(this.current.item)
  }

  private withdraw(item: Item): void {
    const i = this.queue.indexOf(item)
    if (i !== -1) this.queue.splice(i, 1)
    this.settle(item, undefined)
    if (this.current?.item === item) this.current.close.abort()
  }

  private settle(item: Item, answer: ApprovalAnswer | undefined): void {
    if (item.settled) return
    item.settled = true
    item.resolve(answer)
  }

  /**
   * Asks until there is an answer: "Always" is confirmed in a second dialog, and its Cancel goes
   * back to the question. A dialog closed by the signal reports its cancel button: that is no
   * answer (undefined), not a deny.
   */
  private async answer(item: Item, signal: AbortSignal): Promise<ApprovalAnswer | undefined> {
    for (;;) {
      const first = await this.show(dialogOptions(item.req, this.now()), signal)
      if (signal.aborted) return undefined
      const answer = answerFor(first.response, item.req)
      if (answer !== 'allow_always') return answer
      const confirm = await this.show(confirmAlwaysOptions(item.req), signal)
      if (signal.aborted) return undefined
      if (confirm.response === 1) return 'allow_always'
    }
  }

  private next(): void {
    if (this.current) return
    const item = this.queue.shift()
    if (!item) return
    const close = new AbortController()
    this.current = { item, close }
    void this.answer(item, close.signal)
      .then(
        (answer) => this.settle(item, answer),
        () => this.settle(item, undefined),
      )
      .finally(() => {
        this.current = undefined
        this.next()
      })
  }
}
