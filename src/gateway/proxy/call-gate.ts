/**
 * The call gate: every `tools/call` of a session passes it before it may reach the server —
 * decide (policy, risk floor) → grant → approve (a person) → audit. The decision record is
 * written before a call is forwarded, and a call whose decision record cannot be written is
 * denied. The gate also records each forwarded call's outcome (settling its rate-limit
 * reservation), records refused malformed requests, and hides from `tools/list` the tools the
 * policy hides. It speaks to the client and the server only through its {@link GateSession}.
 */
import { excerpt } from '../../shared/text'
import type {
  AuditDecision,
  AuditInput,
  AuditOutcome,
  DecidedBy,
} from '../../shared/contract/audit-record'
import type { CounterStore } from '../../shared/policy/counters'
import { decide } from '../../shared/policy/engine'
import { isHidden } from '../../shared/policy/hide'
import {
  SERVER_REQUEST_KINDS,
  SERVER_REQUEST_METHODS,
  type Decision,
  type Reservation,
  type ServerRequestKind,
} from '../../shared/policy/types'
import type { ToolClass } from '../../shared/risk'
import {
  changedToolText,
  definitionChanges,
  type PinningMode,
  type ToolDefinition,
} from '../../shared/tool-pins'
import { ALLOW_HOUR_MS, type ApprovalCenter, type ApprovalOutcome } from '../approvals/approvals'
import { argsDigest, type Grant, type Grants } from '../approvals/grants'
import {
  ErrorCode,
  errorLine,
  idKey,
  isObject,
  toolErrorLine,
  type JsonRpcId,
} from '../../node/jsonrpc'
import type { LiveConfig } from '../config/live-config'
import type { PinCheck } from './tool-pins'

/** A staged audit record's fate (see AuditLog.stage): 'written' or 'failed' once committed. */
export interface AuditTicket {
  readonly state: 'staged' | 'written' | 'failed'
  readonly error?: Error
}

/**
 * Where the gate writes audit records. `append` writes at once and throws when the record cannot
 * be written. A sink that can batch also has `stage` (queues a record for the next `commit`;
 * throws only when the log is closed) and `commit` (writes what is staged; never throws, the
 * tickets say what was written).
 */
export interface AuditSink {
  append(input: AuditInput): unknown
  stage?(input: AuditInput): AuditTicket
  commit?(): void
}

/** What the gate needs from the gateway. */
export interface CallGateDeps {
  live: LiveConfig
  audit: AuditSink
  approvals: ApprovalCenter
  grants: Grants
  counters: CounterStore
  now: () => number
  log: (msg: string) => void
  isPaused: () => boolean
  defaultApprovalTimeoutMs: () => number
  /** The class of a tool as this server listed it last (kept across sessions), if it did. */
  toolClass?: (tool: string) => ToolClass | undefined
  /** This server's tool pins (absent: no pinning). */
  pins?: GatePins
}

/** What the gate needs of the tool pins of its server. */
export interface GatePins {
  /** The setting `pinning`, read at each call. */
  mode(): PinningMode
  check(tool: string): PinCheck
  /** Accepts the definition with this hash as the tool's new pin (Allow always on a changed tool). */
  accept(tool: string, hash: string): void
}

/** A changed tool's call, as the gate holds it for approval. */
type ChangedPin = Extract<PinCheck, { kind: 'changed' }>

/** The session a gate works for: who calls, and the relay's two directions. */
export interface GateSession {
  readonly id: string
  readonly server: string
  /** The client's name from its `initialize` (read at each call). */
  readonly client: string
  /** The client's version from its `initialize`, when it gave one (read at each call). */
  readonly clientVersion?: string
  isClosed(): boolean
  /** Queues bytes for the client (a newline is added when `addNewline`). */
  toClient(data: Buffer | string, addNewline?: boolean): void
  /** Queues one message for the server. */
  toServer(data: Buffer | string): void
  /** A call is forwarded: the session matches its answer by `id` and hands it back to the gate. */
  forwarded(id: string | number, call: ForwardedCall): void
  /** A call (id key `key`) is held for a person's answer; `abort` withdraws it. */
  hold(key: string, abort: AbortController): void
  /** The held call `key` is decided (or withdrawn). */
  release(key: string): void
  /** The request `key` will get no answer (a held call was cancelled). */
  unanswered(key: string): void
}

/** A forwarded call waiting for its answer. */
export interface ForwardedCall {
  callId: string
  tool: string
  started: number
  reservation?: number
  /**
   * Its decision record, when staged: the session commits the audit log before it sends the
   * call on, and refuses it instead (`unrecorded`) when the record failed.
   */
  ticket?: AuditTicket
}

/** A call answered by the server, recorded once the answer is on its way to the client. */
export interface Finished {
  call: ForwardedCall
  outcome: AuditOutcome
  detail?: string
  success: boolean
  /** When the server's answer came in (the call's latency ends there). */
  at: number
}

const PREFIX = '[Airlock policy]'

/** The kind of a server→client request the policy decides, by its method. */
export function serverRequestKind(method: string): ServerRequestKind | undefined {
  return SERVER_REQUEST_KINDS.find((k) => SERVER_REQUEST_METHODS[k] === method)
}

/** What a person is asked about, per kind of server request. */
const SERVER_REQUEST_WORDS: Record<ServerRequestKind, string> = {
  sampling: "a completion from the client's model (sampling)",
  elicitation: 'input from the user (elicitation)',
  roots: "the list of the client's folders (roots)",
}

/** The policy, grant, approval and audit steps of one session's tool calls. */
export class CallGate {
  private callSeq = 0
  /** Changed definitions a person allowed for this session (tool → hash of the definition). */
  private readonly acceptedForSession = new Map<string, string>()
  /** Server→client requests held for a person's answer (withdrawn when the session ends). */
  private readonly heldRequests = new Set<AbortController>()
  private requestSeq = 0

  constructor(
    private readonly deps: CallGateDeps,
    private readonly s: GateSession,
  ) {}

  /**
   * Records a malformed request that was not forwarded (`refused: malformed`): a request method
   * without a usable id, or a tools/call whose params are not an object with a string name.
   */
  refuseMalformed(method: string, params: unknown, what: string): void {
    const p = isObject(params) ? params : {}
    const isCall = method === 'tools/call'
    this.record({
      kind: 'call',
      callId: `${this.s.id}.${++this.callSeq}`,
      session: this.s.id,
      client: this.s.client,
      server: this.s.server,
      tool: isCall && typeof p.name === 'string' ? p.name : excerpt(method, 64),
      ...(isCall && isObject(p.arguments) ? { args: p.arguments } : {}),
      decision: 'deny',
      decidedBy: 'gateway',
      reason: `refused: malformed (${what}); not forwarded`,
    })
  }

  /**
   * Decides a `tools/call` from the client. Returns true when it may be forwarded now (its
   * decision is recorded and the session tracks it); otherwise the gate answered it or holds it
   * for approval. `raw` is the original line (undefined inside a batch).
   */
  call(id: string | number, params: unknown, raw: Buffer | undefined): boolean {
    const callId = `${this.s.id}.${++this.callSeq}`
    if (!isObject(params) || typeof params.name !== 'string') {
      this.refuseMalformed('tools/call', params, '"params.name" is not a string')
      this.s.toClient(
        errorLine(
          id,
          ErrorCode.InvalidParams,
          'Invalid params: tools/call needs "params.name" (a string); the call was not forwarded',
        ),
      )
      return false
    }
    const tool = params.name
    const args = params.arguments === undefined ? {} : params.arguments
    if (!isObject(args)) {
      this.refuseMalformed('tools/call', params, '"params.arguments" is not an object')
      this.s.toClient(
        errorLine(
          id,
          ErrorCode.InvalidParams,
          'Invalid params: "params.arguments" must be an object; the call was not forwarded',
        ),
      )
      return false
    }
    const base = {
      kind: 'call' as const,
      callId,
      session: this.s.id,
      client: this.s.client,
      clientVersion: this.s.clientVersion,
      server: this.s.server,
      tool,
      args,
    }

    if (this.deps.isPaused()) {
      this.record({ ...base, decision: 'paused', decidedBy: 'user', reason: 'Airlock is paused' })
      this.s.toClient(
        toolErrorLine(
          id,
          `${PREFIX} Airlock is paused: every tool call is denied until the user resumes.`,
        ),
      )
      return false
    }
    const live = this.deps.live.policyFor(this.s.server)
    if ('error' in live) {
      const reason = `the policy of "${this.s.server}" could not be loaded, so every call is denied: ${live.error}`
      this.record({ ...base, decision: 'deny', decidedBy: 'gateway', reason })
      this.s.toClient(toolErrorLine(id, `${PREFIX} ${reason}`))
      return false
    }
    const now = this.deps.now()
    const known = this.deps.toolClass?.(tool)
    const decision: Decision = decide(
      live.policy,
      {
        tool,
        args,
        sessionId: this.s.id,
        client: { name: this.s.client, version: this.s.clientVersion },
        ...(known ? { risk: known } : {}),
      },
      this.deps.counters,
      now,
      {
        defaultApprovalTimeoutMs: this.deps.defaultApprovalTimeoutMs(),
        riskFloor: this.deps.live.config.settings.riskFloor,
      },
    )
    const pin = this.changedPin(tool)
    if (pin && (decision.kind === 'allow' || decision.kind === 'needs_approval')) {
      // The policy would let it run (or ask): the changed definition is never run silently.
      const text = changedToolText(tool, pin.pinnedAt)
      if (this.deps.pins?.mode() === 'approve') {
        this.hold(
          id,
          base,
          {
            kind: 'needs_approval',
            ...(decision.rule ? { rule: decision.rule } : {}),
            reason: `pin mismatch: ${text.replace(/; review it in Airlock$/, '')}`,
            timeoutMs:
              decision.kind === 'needs_approval'
                ? decision.timeoutMs
                : this.deps.defaultApprovalTimeoutMs(),
            reservations: decision.reservations,
          },
          argsDigest(args),
          raw,
          pin,
        )
        return false
      }
      this.record({
        ...base,
        decision: 'deny',
        decidedBy: 'gateway',
        reason: `pin mismatch: ${text}`,
      })
      this.s.toClient(toolErrorLine(id, `${PREFIX} ${text}`))
      return false
    }
    switch (decision.kind) {
      case 'allow':
        return this.forwardCall(
          id,
          { ...base, decision: 'allow', decidedBy: 'policy', rule: decision.rule },
          decision.reservations,
        )
      case 'deny':
      case 'rate_limited':
        this.record({
          ...base,
          decision: decision.kind,
          decidedBy: 'policy',
          rule: decision.rule,
          reason: decision.reason,
        })
        this.s.toClient(toolErrorLine(id, `${PREFIX} ${decision.reason}`))
        return false
      case 'hidden':
        this.record({ ...base, decision: 'hidden', decidedBy: 'policy' })
        this.s.toClient(unknownToolLine(id, tool))
        return false
      case 'needs_approval': {
        const digest = argsDigest(args)
        const grant = this.deps.grants.match(
          { server: this.s.server, tool, session: this.s.id, digest },
          now,
        )
        if (grant) {
          return this.forwardCall(
            id,
            {
              ...base,
              decision: 'approved',
              decidedBy: 'grant',
              rule: decision.rule,
              reason: grantReason(grant),
            },
            decision.reservations,
          )
        }
        this.hold(id, base, decision, digest, raw)
        return false
      }
      default: {
        const never: never = decision
        throw new Error(`unhandled decision ${JSON.stringify(never)}`)
      }
    }
  }

  /**
   * Decides a request the server sends the client (sampling, elicitation, roots) by the
   * policy's `server_requests`, and audits it as a `server_request` record. Returns true when
   * the session may pass it on now; otherwise the gate answered the server (denied) or holds it
   * for a person and passes it on (`toClient`) once allowed.
   */
  serverRequest(id: string | number, method: string, params: unknown): boolean {
    const kind = serverRequestKind(method)
    if (!kind) return true
    const base = {
      kind: 'server_request' as const,
      callId: `${this.s.id}.r${++this.requestSeq}`,
      session: this.s.id,
      client: this.s.client,
      clientVersion: this.s.clientVersion,
      server: this.s.server,
      tool: method,
      args: isObject(params) ? params : {},
    }
    const live = this.deps.live.policyFor(this.s.server)
    const posture = 'error' in live ? 'deny' : (live.policy.serverRequests?.[kind] ?? 'allow')
    const refuse = (decision: AuditDecision, decidedBy: DecidedBy, why: string): void => {
      this.record({ ...base, decision, decidedBy, reason: why })
      if (!this.s.isClosed())
        this.s.toServer(errorLine(id, ErrorCode.InvalidRequest, `${PREFIX} ${why}`))
    }
    if ('error' in live) {
      refuse(
        'deny',
        'gateway',
        `the policy of "${this.s.server}" could not be loaded, so its ${kind} requests are denied: ${live.error}`,
      )
      return false
    }
    if (posture === 'deny') {
      refuse(
        'deny',
        'policy',
        `the policy of "${this.s.server}" denies its ${kind} requests (server_requests.${kind}: deny); the client was not asked`,
      )
      return false
    }
    if (posture === 'allow') {
      try {
        this.deps.audit.append({ ...base, decision: 'allow', decidedBy: 'policy' })
      } catch (err) {
        this.deps.log(`${this.s.server}: ${(err as Error).message}`)
        if (!this.s.isClosed())
          this.s.toServer(
            errorLine(
              id,
              ErrorCode.InvalidRequest,
              `${PREFIX} the ${kind} request was denied because the audit log could not be written: ${(err as Error).message}`,
            ),
          )
        return false
      }
      return true
    }
    // require_approval: a person sees what the server asks before the client does.
    const abort = new AbortController()
    this.heldRequests.add(abort)
    const asked = this.deps.now()
    const timeoutMs =
      live.policy.approvalTimeoutSeconds !== undefined
        ? live.policy.approvalTimeoutSeconds * 1000
        : this.deps.defaultApprovalTimeoutMs()
    const why = `server_requests.${kind}: require_approval`
    const line = JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n'
    const ended = (): void =>
      this.record({
        ...base,
        decision: 'cancelled',
        decidedBy: 'gateway',
        reason: 'session ended before the approval',
      })
    void this.deps.approvals
      .request(
        {
          session: this.s.id,
          client: this.s.client,
          server: this.s.server,
          tool: method,
          argsExcerpt: excerpt(base.args, 4096),
          argsDigest: '',
          reason: `"${this.s.server}" asks ${SERVER_REQUEST_WORDS[kind]}`,
          serverRequest: kind,
          callId: base.callId,
        },
        timeoutMs,
        abort.signal,
      )
      .then((outcome) => {
        this.heldRequests.delete(abort)
        const approvalMs = this.deps.now() - asked
        switch (outcome.answer) {
          case 'allow_once':
          case 'allow_session':
          case 'allow_hour':
          case 'allow_always':
            // A server request is allowed once, whatever the answer's scope: no grant is left.
            if (this.s.isClosed()) return ended()
            try {
              this.deps.audit.append({
                ...base,
                decision: 'approved',
                decidedBy: 'user',
                reason: `${why}; allowed once by ${outcome.by}`,
                approvalMs,
              })
            } catch (err) {
              return refuse(
                'deny',
                'gateway',
                `the ${kind} request was denied because the audit log could not be written: ${(err as Error).message}`,
              )
            }
            this.s.toClient(line)
            return
          case 'deny':
            return refuse(
              'denied_by_user',
              'user',
              `the user denied the ${kind} request of "${this.s.server}"${outcome.message === undefined ? '' : `: "${outcome.message}"`}; the client was not asked`,
            )
          case 'timeout':
            return refuse(
              'timeout',
              'timeout',
              `the ${kind} request of "${this.s.server}" needs the user's approval and nobody answered within ${Math.round(timeoutMs / 1000)} s; the client was not asked`,
            )
          case 'no_approver':
            return refuse(
              'deny',
              'gateway',
              `the ${kind} request of "${this.s.server}" needs the user's approval and no approver is open (the Airlock app, or the web UI of "airlock serve"); the client was not asked`,
            )
          case 'shutdown':
            return refuse(
              'deny',
              'gateway',
              `the ${kind} request of "${this.s.server}" was not answered: ${outcome.why}`,
            )
          case 'cancelled':
            return ended()
          default: {
            const never: never = outcome
            throw new Error(`unhandled approval outcome ${JSON.stringify(never)}`)
          }
        }
      })
    return false
  }

  /** The session ended: withdraws the server requests waiting for a person. */
  closeServerRequests(): void {
    for (const abort of this.heldRequests) abort.abort()
    this.heldRequests.clear()
  }

  /** The pin check of a call: the changed definition, unless pinning is off or this session allowed it. */
  private changedPin(tool: string): ChangedPin | undefined {
    const pins = this.deps.pins
    if (!pins || pins.mode() === 'off') return undefined
    const check = pins.check(tool)
    if (check.kind !== 'changed') return undefined
    return this.acceptedForSession.get(tool) === check.hash ? undefined : check
  }

  /**
   * Stages (or writes) the decision record, reserves counters, forwards. On an audit failure:
   * denied. A staged record is written before the session sends the call on (see `unrecorded`).
   */
  private forwardCall(id: string | number, rec: AuditInput, reservations: Reservation[]): boolean {
    const reservation = reservations.length ? this.deps.counters.reserve(reservations) : undefined
    let ticket: AuditTicket | undefined
    try {
      const audit = this.deps.audit
      if (audit.stage) ticket = audit.stage(rec)
      else audit.append(rec)
    } catch (err) {
      this.refuseUnrecorded(id, reservation, err as Error)
      return false
    }
    this.s.forwarded(id, {
      callId: rec.callId,
      tool: rec.tool,
      started: this.deps.now(),
      reservation,
      ticket,
    })
    return true
  }

  /**
   * A forwarded call whose staged decision record could not be written (its batch failed): it
   * is denied and never reaches the server; the session has dropped it already.
   */
  unrecorded(id: string | number, call: ForwardedCall, err: Error): void {
    this.refuseUnrecorded(id, call.reservation, err)
  }

  private refuseUnrecorded(id: string | number, reservation: number | undefined, err: Error): void {
    if (reservation !== undefined) this.deps.counters.rollback(reservation)
    this.deps.log(`${this.s.server}: ${err.message}`)
    this.s.toClient(
      toolErrorLine(
        id,
        `${PREFIX} the call was denied because the audit log could not be written: ${err.message}`,
      ),
    )
  }

  private hold(
    id: string | number,
    base: AuditInput & { args: Record<string, unknown> },
    decision: Extract<Decision, { kind: 'needs_approval' }>,
    digest: string,
    raw: Buffer | undefined,
    pin?: ChangedPin,
  ): void {
    const key = idKey(id)
    const abort = new AbortController()
    this.s.hold(key, abort)
    const asked = this.deps.now()
    const line = raw
      ? Buffer.from(raw)
      : Buffer.from(
          JSON.stringify({
            jsonrpc: '2.0',
            id,
            method: 'tools/call',
            params: { name: base.tool, arguments: base.args },
          }),
        )
    void this.deps.approvals
      .request(
        {
          session: this.s.id,
          client: this.s.client,
          server: this.s.server,
          tool: base.tool,
          argsExcerpt: excerpt(base.args, 1024),
          argsDigest: digest,
          rule: decision.rule,
          reason: decision.reason,
          ...(pin ? { pin: { pinnedAt: pin.pinnedAt, changes: shownChanges(pin) } } : {}),
          callId: base.callId,
        },
        decision.timeoutMs,
        abort.signal,
      )
      .then((outcome) => this.approvalDone(id, key, base, decision, line, asked, outcome, pin))
  }

  private approvalDone(
    id: string | number,
    key: string,
    base: AuditInput,
    decision: Extract<Decision, { kind: 'needs_approval' }>,
    line: Buffer,
    asked: number,
    outcome: ApprovalOutcome,
    pin?: ChangedPin,
  ): void {
    this.s.release(key)
    const approvalMs = this.deps.now() - asked
    const rec = { ...base, rule: decision.rule, approvalMs }
    const deny = (
      decisionKind: AuditDecision,
      decidedBy: DecidedBy,
      text: string,
      reason: string,
    ): void => {
      this.record({ ...rec, decision: decisionKind, decidedBy, reason })
      if (!this.s.isClosed()) this.s.toClient(toolErrorLine(id, `${PREFIX} ${text}`))
    }
    const secs = Math.round(decision.timeoutMs / 1000)
    const late = lateWindowText(this.deps.approvals.lateWindowMs)
    // Why a person was asked, for the audit record and the agent: the rule, or the risk floor.
    const why = decision.reason ?? (decision.rule ? `rule "${decision.rule}"` : 'the policy')
    switch (outcome.answer) {
      case 'allow_once':
      case 'allow_session':
      case 'allow_hour':
      case 'allow_always':
        if (this.s.isClosed())
          return this.record({
            ...rec,
            decision: 'cancelled',
            decidedBy: 'gateway',
            reason: 'session ended before the approval',
          })
        if (pin && outcome.answer === 'allow_always') {
          // Always, for a changed tool, means: its new definition becomes the pin.
          this.deps.pins?.accept(base.tool, pin.hash)
        } else if (outcome.answer === 'allow_hour') {
          if (pin) this.acceptedForSession.set(base.tool, pin.hash)
          const now = this.deps.now()
          this.deps.grants.add(
            { scope: 'tool', server: this.s.server, tool: base.tool, until: now + ALLOW_HOUR_MS },
            now,
          )
        } else if (outcome.answer !== 'allow_once') {
          if (pin) this.acceptedForSession.set(base.tool, pin.hash)
          this.deps.grants.add(
            {
              scope: outcome.answer === 'allow_session' ? 'session' : 'always',
              server: this.s.server,
              tool: base.tool,
              session: this.s.id,
            },
            this.deps.now(),
          )
        }
        if (
          this.forwardCall(
            id,
            {
              ...rec,
              decision: 'approved',
              decidedBy: 'user',
              reason: `${why}; ${outcome.answer} by ${outcome.by}`,
            },
            decision.reservations,
          )
        ) {
          this.s.toServer(line)
        }
        return
      case 'deny':
        // A person's message is for the agent: it leads the text, in quotes.
        return outcome.message === undefined
          ? deny(
              'denied_by_user',
              'user',
              `the user denied "${base.tool}" on "${this.s.server}" (approval was needed: ${why}).`,
              `${why}; denied by ${outcome.by}`,
            )
          : deny(
              'denied_by_user',
              'user',
              `the user denied "${base.tool}" on "${this.s.server}" with this message: "${outcome.message}" (approval was needed: ${why}).`,
              `${why}; denied by ${outcome.by}: "${outcome.message}"`,
            )
      case 'timeout':
        return deny(
          'timeout',
          'timeout',
          `"${base.tool}" needs the user's approval (${why}) and nobody answered within ${secs} s, so it was denied. Ask the user to allow it in Airlock within ${late} (Activity, this call's row, "Allow the retry"); an identical retry of this call is then let through once, without asking again.`,
          `${why}; no answer within ${secs} s`,
        )
      case 'no_approver':
        return deny(
          'deny',
          'gateway',
          `"${base.tool}" needs the user's approval (${why}) and no approver is available, so it was denied. Ask the user to open Airlock (the desktop app, or "airlock open" for the web UI of "airlock serve") and retry: the request then waits for their Allow or Deny. Or, within ${late}, the user allows this call in Activity ("Allow the retry"), and an identical retry is let through once.`,
          `${why}; no approver available`,
        )
      case 'shutdown':
        return deny(
          'deny',
          'gateway',
          `"${base.tool}" was waiting for the user's approval (${why}) and was not run: ${outcome.why}. Retry it once Airlock runs again (airlock connect reconnects on its own).`,
          `${why}; not answered: ${outcome.why}`,
        )
      case 'cancelled':
        this.record({
          ...rec,
          decision: 'cancelled',
          decidedBy: 'gateway',
          reason: this.s.isClosed() ? 'client disconnected' : 'cancelled by the client',
        })
        this.s.unanswered(key)
        return
      default: {
        const never: never = outcome
        throw new Error(`unhandled approval outcome ${JSON.stringify(never)}`)
      }
    }
  }

  finish(
    call: ForwardedCall,
    outcome: AuditOutcome,
    detail: string | undefined,
    success: boolean,
    at = this.deps.now(),
  ): void {
    if (call.reservation !== undefined) {
      if (success) this.deps.counters.commit(call.reservation)
      else this.deps.counters.rollback(call.reservation)
    }
    this.record({
      kind: 'outcome',
      callId: call.callId,
      session: this.s.id,
      client: this.s.client,
      server: this.s.server,
      tool: call.tool,
      outcome,
      detail,
      latencyMs: at - call.started,
    })
  }

  /** Records what does not hold a call back (refusals, outcomes): staged when the sink can. */
  private record(input: AuditInput): void {
    try {
      const audit = this.deps.audit
      if (audit.stage) audit.stage(input)
      else audit.append(input)
    } catch (err) {
      // Only reached for calls that are not forwarded: the refusal stands, the failure is logged.
      this.deps.log(`${this.s.server}: ${(err as Error).message}`)
    }
  }
  /** How the server answered a forwarded call (`msg` is its response), for the outcome record. */
  answered(call: ForwardedCall, msg: Record<string, unknown>): Finished {
    const result = msg.result
    const at = this.deps.now()
    if (isObject(msg.error)) {
      return {
        call,
        outcome: 'error',
        detail: typeof msg.error.message === 'string' ? msg.error.message : 'error',
        success: false,
        at,
      }
    }
    if (isObject(result) && result.isError === true)
      return { call, outcome: 'is_error', detail: firstText(result), success: false, at }
    return {
      call,
      outcome: 'ok',
      detail: isObject(result) ? firstText(result) : undefined,
      success: true,
      at,
    }
  }

  /**
   * A `tools/list` page without the tools the policy hides (every tool when the policy cannot be
   * loaded). Returns a new array; compare lengths to see whether any was hidden.
   */
  visibleTools(tools: unknown[]): unknown[] {
    const live = this.deps.live.policyFor(this.s.server)
    if ('error' in live) return []
    let changed = false
    const out: unknown[] = []
    for (const t of tools) {
      if (!isObject(t) || typeof t.name !== 'string') {
        out.push(t)
        continue
      }
      if (isHidden(live.policy, t.name)) {
        changed = true
        continue
      }
      // A changed tool is listed as it was pinned: a new description may carry instructions
      // for the model, and nobody has read it yet.
      const pin = this.changedPin(t.name)
      if (pin) {
        changed = true
        out.push(listed(pin.pinned))
      } else out.push(t)
    }
    return changed ? out : tools
  }
}

/**
 * What an MCP TypeScript SDK server answers for a tool it does not have, byte for byte (its key
 * order included), so that a hidden tool cannot be told from a missing one on the wire.
 */
function unknownToolLine(id: JsonRpcId, tool: string): string {
  return (
    JSON.stringify({
      result: {
        content: [{ type: 'text', text: `MCP error -32602: Tool ${tool} not found` }],
        isError: true,
      },
      jsonrpc: '2.0',
      id,
    }) + '\n'
  )
}

/** A pinned definition as a tools/list entry (absent fields left out). */
function listed(def: ToolDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = { name: def.name }
  if (def.description !== undefined) out.description = def.description
  out.inputSchema = def.inputSchema ?? { type: 'object' }
  if (def.annotations !== undefined) out.annotations = def.annotations
  return out
}

/** What changed, for the approval request (each text cut: it is written by the server). */
function shownChanges(
  pin: ChangedPin,
): { field: 'description' | 'inputSchema' | 'annotations'; old: string; new: string }[] {
  return definitionChanges(pin.pinned, pin.current).map((c) => ({
    field: c.field,
    old: cut(c.old),
    new: cut(c.new),
  }))
}

function cut(text: string): string {
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text
}

function firstText(result: Record<string, unknown>): string | undefined {
  const content = result.content
  if (!Array.isArray(content)) return undefined
  const t = content.find((c) => isObject(c) && c.type === 'text' && typeof c.text === 'string') as
    { text: string } | undefined
  return t ? excerpt(t.text, 1024) : undefined
}

/** How long a late allow stays possible, in words for the agent ("10 minutes"). */
export function lateWindowText(ms: number): string {
  const mins = Math.round(ms / 60_000)
  if (mins >= 1) return `${mins} ${mins === 1 ? 'minute' : 'minutes'}`
  const secs = Math.max(1, Math.round(ms / 1000))
  return `${secs} ${secs === 1 ? 'second' : 'seconds'}`
}

/** The audit reason of a call a grant let through (a late allow names who allowed the retry). */
function grantReason(grant: Grant): string {
  if (grant.scope === 'call' && grant.by !== undefined)
    return `grant: call (retry allowed late by ${grant.by})`
  return `grant: ${grant.scope}`
}
