/**
 * Answers approvals at the terminal of `airlock serve`: one y/n prompt at a time, the rest
 * queued. Shows client, server, tool and an escaped excerpt of the arguments (agent-written,
 * possibly hostile: control characters and escape sequences are made visible).
 */
import readline from 'node:readline'
import type { ApprovalAnswer, Approver, PendingApproval } from '../gateway/approvals/approvals'
import { alwaysQuestion, answersFor, type StandardAnswer } from '../shared/approval-answers'
import { escapeUnsafe, excerpt } from '../shared/text'

/** The key a person types for each answer (Deny is also the default: an empty reply). */
const ANSWER_KEYS: Record<StandardAnswer, string> = {
  deny: 'N',
  allow_once: 'y',
  allow_session: 's',
  allow_hour: 'h',
  allow_always: 'a',
}

/** Maps a typed reply to an answer; anything unrecognised is a deny. */
export function parseReply(reply: string): ApprovalAnswer {
  switch (reply.trim().toLowerCase()) {
    case 'y':
    case 'yes':
    case 'o':
    case 'once':
      return 'allow_once'
    case 's':
    case 'session':
      return 'allow_session'
    case 'h':
    case 'hour':
      return 'allow_hour'
    case 'a':
    case 'always':
      return 'allow_always'
    default:
      return 'deny'
  }
}

/** The answers with their keys, in the labels and order every approver uses. */
function choices(req: PendingApproval): string {
  return answersFor(req)
    .map(
      ({ answer, label }) =>
        `[${ANSWER_KEYS[answer]}] ${label}${answer === 'allow_always' && req.pin ? ' (accepts the new definition)' : ''}`,
    )
    .join('  ')
}

/** The prompt text for a request. */
export function promptText(req: PendingApproval, now: number): string {
  const secs = Math.max(0, Math.round((req.deadline - now) / 1000))
  if (req.serverRequest)
    return (
      `\n⚠ "${escapeUnsafe(req.server)}" sends ${escapeUnsafe(req.client)} a ${req.serverRequest} request (${escapeUnsafe(req.tool)})` +
      (req.reason ? `\n  why: ${escapeUnsafe(req.reason)}` : '') +
      `\n  what it asks: ${excerpt(req.argsExcerpt, 1200)}` +
      `\n  Answer: ${choices(req)}  (${secs} s): `
    )
  return (
    `\n⚠ ${escapeUnsafe(req.client)} wants to run "${escapeUnsafe(req.tool)}" on "${escapeUnsafe(req.server)}"` +
    (req.rule ? ` (rule: ${escapeUnsafe(req.rule)})` : '') +
    (req.reason && !req.rule ? `\n  why: ${escapeUnsafe(req.reason)}` : '') +
    pinText(req) +
    `\n  args: ${excerpt(req.argsExcerpt, 300)}` +
    `\n  Answer: ${choices(req)}  (${secs} s): `
  )
}

/** What changed in a tool since it was pinned (server-written text: escaped and cut). */
function pinText(req: PendingApproval): string {
  if (!req.pin) return ''
  const lines = req.pin.changes.map(
    (c) =>
      `\n    ${c.field}:\n      was: ${excerpt(c.old || '(none)', 400)}\n      now: ${excerpt(c.new || '(none)', 400)}`,
  )
  return `\n  the tool CHANGED since it was pinned on ${escapeUnsafe(req.pin.pinnedAt.slice(0, 10))}:${lines.join('')}`
}

/**
 * The confirmation of "always", stating its scope as the card and the dialog do. Only y/yes
 * confirms; anything else goes back to the question.
 */
export function confirmAlwaysText(req: PendingApproval): string {
  const question = alwaysQuestion(`"${escapeUnsafe(req.tool)}"`, `"${escapeUnsafe(req.server)}"`)
  return `  ${question}
  Revoke it any time in Airlock (Approvals, or the tool's row in Tools & policy). [y] yes, always  [N] no, back: `
}

/** Whether a reply confirms "always". */
export function confirmsAlways(reply: string): boolean {
  const r = reply.trim().toLowerCase()
  return r === 'y' || r === 'yes'
}

/** A terminal approver over an input and output stream; "always" asks to confirm. */
export class TerminalApprover implements Approver {
  readonly name = 'terminal'
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks when earlier prompts are done; resolves undefined if withdrawn meanwhile. */
  ask(req: PendingApproval, signal: AbortSignal): Promise<ApprovalAnswer | undefined> {
    const turn = this.queue.then(() => (signal.aborted ? undefined : this.prompt(req, signal)))
    this.queue = turn.catch(() => undefined)
    return turn
  }

  private prompt(req: PendingApproval, signal: AbortSignal): Promise<ApprovalAnswer | undefined> {
    return new Promise((resolve) => {
      const rl = readline.createInterface({
        input: this.input,
        output: this.output,
        terminal: false,
      })
      const onAbort = (): void => {
        this.output.write('\n  (answered elsewhere, timed out or withdrawn)\n')
        rl.close()
        resolve(undefined)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      const done = (answer: ApprovalAnswer): void => {
        signal.removeEventListener('abort', onAbort)
        rl.close()
        this.output.write(`  → ${answer}\n`)
        resolve(answer)
      }
      const ask = (): void =>
        rl.question(promptText(req, this.now()), (reply) => {
          if (signal.aborted) return
          const parsed = parseReply(reply)
          // A server request is allowed once or denied: no grant applies to it.
          const answer = req.serverRequest && parsed !== 'deny' ? 'allow_once' : parsed
          if (answer !== 'allow_always') return done(answer)
          // "Always" is a considered act: confirm it, stating its scope; "no" asks again.
          rl.question(confirmAlwaysText(req), (again) => {
            if (signal.aborted) return
            if (confirmsAlways(again)) return done('allow_always')
            this.output.write('  (not always: answer again)\n')
            ask()
          })
        })
      ask()
    })
  }
}
