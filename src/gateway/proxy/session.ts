/**
 * One agent session: a client connection bridged to its own server process. Every message is
 * parsed once; anything but `tools/call` and `tools/list` is forwarded as the original bytes, in
 * order, both ways. `tools/call` is decided by the policy engine, recorded in the audit log
 * before it is forwarded, and its outcome recorded when the server answers.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import type { ServerConfig } from '../../shared/contract/config'
import { excerpt } from '../../shared/excerpt'
import type {
  AuditDecision,
  AuditInput,
  AuditOutcome,
  DecidedBy,
} from '../../shared/contract/audit-record'
import type { CounterStore } from '../../shared/policy/counters'
import { decide } from '../../shared/policy/engine'
import { isHidden } from '../../shared/policy/hide'
import type { Decision, Reservation } from '../../shared/policy/types'
import type { ToolClass } from '../../shared/risk'
import type { ApprovalCenter, ApprovalOutcome } from '../approvals/approvals'
import { argsDigest, type Grants } from '../approvals/grants'
import { LineSplitter } from '../../node/framing/line-splitter'
import {
  ErrorCode,
  errorLine,
  idKey,
  isId,
  isObject,
  notificationLine,
  toolErrorLine,
  type JsonRpcId,
} from '../../node/jsonrpc'
import type { LiveConfig } from '../config/live-config'
import { killTree } from './server-process'

/** Where the session writes audit records; throws when the record cannot be written. */
export interface AuditSink {
  append(input: AuditInput): unknown
}

/** The agent side of a session (the shim's socket, or an HTTP stream). */
export interface ClientLink {
  /** Writes the chunks (corked together); returns false when the caller should wait for `onDrain`. */
  write(chunks: (Buffer | string)[]): boolean
  onDrain(cb: () => void): void
  pause(): void
  resume(): void
  end(): void
}

/** What a session needs from the gateway. */
export interface SessionDeps {
  id: string
  server: ServerConfig
  live: LiveConfig
  audit: AuditSink
  approvals: ApprovalCenter
  grants: Grants
  counters: CounterStore
  now: () => number
  log: (msg: string) => void
  isPaused: () => boolean
  spawn: (server: ServerConfig) => ChildProcessWithoutNullStreams
  defaultApprovalTimeoutMs: () => number
  onClose: (session: Session) => void
  /**
   * Sees every tools/list page the server answers, before hidden tools are removed; `first`
   * when it answers a request without a cursor (the list starts anew).
   */
  onToolsList?: (tools: unknown[], first: boolean) => void
  /** The class of a tool as this server listed it last (kept across sessions), if it did. */
  toolClass?: (tool: string) => ToolClass | undefined
  /** How long the gateway's own tools/list for an unseen tool may take (default 5 s). */
  ownListTimeoutMs?: number
  /** Told why the server went away (could not start, exited) when that ends the session. */
  onServerGone?: (message: string) => void
}

/** A client request forwarded to the server and not yet answered. */
interface Pending {
  method: string
  /** tools/list without a cursor: the first page. */
  firstPage?: boolean
  /** Set for tools/call. */
  call?: { callId: string; tool: string; started: number; reservation?: number }
}

/** A call answered by the server, recorded once the answer is on its way to the client. */
interface Finished {
  call: NonNullable<Pending['call']>
  outcome: AuditOutcome
  detail?: string
  success: boolean
}

/** A tools/call held for a person's answer. */
interface Held {
  abort: AbortController
}

/** A client batch whose answers are collected into one batch response. */
interface Batch {
  /** idKey → number of requests of the batch with that id still unanswered. */
  waiting: Map<string, number>
  answers: unknown[]
  /** Still being read: answers with a null id (invalid elements) belong to it. */
  open: boolean
}

const PREFIX = '[Airlock policy]'
/** A server message the session consumed (the answer to the gateway's own request). */
const DROP = Symbol('drop')
/** The id of the gateway's own tools/list (a string no SDK client generates). */
const OWN_LIST_ID = 'airlock-own-tools-list'
/** Server exits (or failed starts) within {@link CRASH_WINDOW_MS} that end the session. */
const MAX_CRASHES = 3
const CRASH_WINDOW_MS = 60_000
/** The id of the client's initialize replayed to a restarted server; its answer is dropped. */
const REINIT_ID = 'airlock-reinitialize'
/** The notification a session sends before the gateway ends it on purpose (the shim then stops). */
export const SESSION_ENDED_METHOD = 'notifications/airlock/session_ended'
/** How long after a server exits its output may still be drained before the session ends. */
const EXIT_DRAIN_GRACE_MS = 1000
const NL = Buffer.from('\n')

/** A live agent session. */
export class Session {
  readonly id: string
  readonly server: string
  client = 'unknown'
  readonly startedAt: number
  private child?: ChildProcessWithoutNullStreams
  /** The client's initialize request and initialized notification, replayed on a restart. */
  private initializeMsg?: Record<string, unknown>
  private initializedLine?: Buffer
  /** When the server exited or failed to start, newest last (within the crash window). */
  private readonly crashes: number[] = []
  private readonly pending = new Map<string, Pending>()
  private readonly held = new Map<string, Held>()
  private closed = false
  private batches: Batch[] = []
  /** The batch being read, while its elements are handled. */
  private collecting: Batch | undefined
  private callSeq = 0
  private stderrTail = ''
  /** Whether the server answered `initialize` (it is running and can be asked for its tools). */
  private initialized = false
  /** The gateway's own tools/list (at most one per session), and the calls waiting for it. */
  private ownList?: { done: boolean; waiting: (() => void)[]; timer?: NodeJS.Timeout }

  constructor(
    private readonly deps: SessionDeps,
    private readonly link: ClientLink,
  ) {
    this.id = deps.id
    this.server = deps.server.name
    this.startedAt = deps.now()
  }

  /** Starts the server process and wires both directions. */
  start(): void {
    this.spawnServer()
  }

  private spawnServer(): void {
    this.stderrTail = ''
    const child = this.deps.spawn(this.deps.server)
    this.child = child
    const fromServer = new LineSplitter(
      (line) => this.fromServer(line),
      (bytes) =>
        this.deps.log(
          `${this.server}: dropped a server message over the size cap (${bytes} bytes)`,
        ),
    )
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.child === child) fromServer.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2048)
    })
    child.stdin.on('error', () => undefined) // EPIPE after a crash: handled by 'exit'.
    child.on('error', (err) => {
      if (this.child !== child) return
      this.deps.log(`${this.server}: cannot start "${this.deps.server.command}": ${err.message}`)
      this.serverGone(
        `could not be started (${err.message}); check that "${excerpt(this.deps.server.command, 200)}" is installed and on the PATH of the gateway, or fix "command" with "airlock servers list"`,
      )
    })
    // 'exit' can come before the last bytes the server wrote are read: wait for its output to
    // close ('close'), so that an answer written just before exiting still reaches the client.
    // A grandchild that keeps the pipe open must not keep the session alive: give up after a grace.
    let exitGrace: NodeJS.Timeout | undefined
    const gone = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (exitGrace) clearTimeout(exitGrace)
      if (!this.closed && this.child === child)
        this.serverGone(`exited (${signal ?? `code ${code}`})`)
    }
    child.on('exit', (code, signal) => {
      exitGrace = setTimeout(() => gone(code, signal), EXIT_DRAIN_GRACE_MS)
      exitGrace.unref()
    })
    child.on('close', gone)
    this.link.onDrain(() => this.child?.stdout.resume())
    child.stdin.on('drain', () => this.link.resume())
  }

  private readonly fromClientSplitter = new LineSplitter(
    (line) => this.fromClient(line),
    (bytes) => {
      this.deps.log(
        `${this.server}: refused a client message of ${bytes} bytes (over the size cap)`,
      )
      this.sendToClient(
        errorLine(
          null,
          ErrorCode.InvalidRequest,
          `Message too large (${bytes} bytes); it was not forwarded`,
        ),
      )
    },
  )

  /** Bytes from the client. */
  clientData(chunk: Buffer): void {
    if (!this.closed) this.fromClientSplitter.push(chunk)
  }

  /** The client went away: withdraw held calls, end the server's process tree. */
  clientClosed(): Promise<void> {
    return this.close('client disconnected')
  }

  /** Tells the client that the tool list changed (the hide set did). */
  notifyToolsListChanged(): void {
    if (!this.closed) this.sendToClient(notificationLine('notifications/tools/list_changed'))
  }

  /** Number of calls waiting for approval. */
  heldCount(): number {
    return this.held.size
  }

  /** Ends the session: pending calls get an outcome record, the server tree is ended. */
  async close(why: string, answerPending?: string): Promise<void> {
    if (this.closed) return
    if (answerPending !== undefined) {
      // The client is still there (the gateway is stopping): every request it is waiting for
      // gets an error rather than silence. Held calls were never forwarded.
      for (const key of [...this.pending.keys(), ...this.held.keys()]) {
        this.sendToClient(errorLine(idFromKey(key), ErrorCode.ServerGone, answerPending))
      }
    }
    this.flush() // what was already answered (e.g. errors for pending requests) still goes out
    this.closed = true
    if (this.ownList?.timer) clearTimeout(this.ownList.timer)
    for (const h of this.held.values()) h.abort.abort()
    this.held.clear()
    // Forwarded calls may have run: their reservations stand whatever the client does now.
    for (const p of this.pending.values())
      if (p.call) this.finishCall(p.call, 'cancelled', why, true)
    this.pending.clear()
    this.deps.grants.endSession(this.id)
    this.link.end()
    this.deps.onClose(this)
    if (this.child) await killTree(this.child)
  }

  // ── client → server ──────────────────────────────────────────────────────

  private fromClient(line: Buffer): void {
    let msg: unknown
    try {
      msg = JSON.parse(line.toString('utf8'))
    } catch (err) {
      this.deps.log(`${this.server}: unparseable client line dropped (${(err as Error).message})`)
      this.sendToClient(
        errorLine(
          null,
          ErrorCode.ParseError,
          `Parse error: the line is not valid JSON (${(err as Error).message}); it was not forwarded`,
        ),
      )
      return
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) {
        this.sendToClient(errorLine(null, ErrorCode.InvalidRequest, 'Invalid Request: empty batch'))
        return
      }
      this.clientBatch(msg)
      return
    }
    if (this.clientMessage(msg, line)) this.sendToServer(line)
  }

  /**
   * A batch is split: each element is decided (and, when allowed, forwarded) alone, as if it
   * came on its own line, so that a server that does not take batches still answers each; the
   * answers to its requests go back to the client together, as one batch response, once the
   * last one is in. A batch of notifications only gets no answer, as JSON-RPC says.
   */
  private clientBatch(msgs: unknown[]): void {
    const batch: Batch = { waiting: new Map(), answers: [], open: true }
    this.batches.push(batch)
    this.collecting = batch
    try {
      for (const m of msgs) {
        if (isObject(m) && typeof m.method === 'string' && isId(m.id) && m.id !== null) {
          const key = idKey(m.id)
          batch.waiting.set(key, (batch.waiting.get(key) ?? 0) + 1)
        }
        if (this.clientMessage(m, undefined)) this.sendToServer(JSON.stringify(m))
      }
    } finally {
      this.collecting = undefined
      batch.open = false
    }
    this.batchProgress(batch)
  }

  /**
   * Handles one client message. Returns true when it should be forwarded as is; otherwise the
   * session answered, held or dropped it. `raw` is the original line (undefined inside a batch).
   */
  private clientMessage(msg: unknown, raw: Buffer | undefined): boolean {
    if (!isObject(msg)) {
      this.sendToClient(
        errorLine(null, ErrorCode.InvalidRequest, 'Invalid Request: expected a JSON-RPC object'),
      )
      return false
    }
    const { method, id } = msg
    if (typeof method !== 'string') {
      if ('id' in msg && ('result' in msg || 'error' in msg)) return true // answer to a server request
      if ('id' in msg && isId(id)) {
        this.sendToClient(
          errorLine(id, ErrorCode.InvalidRequest, 'Invalid Request: "method" must be a string'),
        )
      } else {
        this.deps.log(
          `${this.server}: dropped a client message that is neither request, notification nor response`,
        )
      }
      return false
    }
    if (!('id' in msg)) {
      if (method === 'notifications/cancelled') return this.cancelled(msg.params)
      if (method.startsWith('notifications/')) {
        if (method === 'notifications/initialized' && raw) this.initializedLine = Buffer.from(raw)
        return true
      }
      // A request method without an id: a server that runs it anyway would run it unanswered,
      // with no decision and no record. Only requests call tools, so it is never forwarded.
      this.refuseMalformed(method, msg.params, 'a request without an "id"')
      return false
    }
    if (!isId(id) || id === null) {
      this.deps.log(`${this.server}: dropped a "${method}" request with an invalid id`)
      this.refuseMalformed(method, msg.params, 'a request whose "id" is not a string or a number')
      this.sendToClient(
        errorLine(
          null,
          ErrorCode.InvalidRequest,
          'Invalid Request: "id" must be a string or a number',
        ),
      )
      return false
    }
    const key = idKey(id)
    if (this.pending.has(key) || this.held.has(key) || id === OWN_LIST_ID) {
      // Two requests in flight with one id: the second would overwrite the first's entry (its
      // answer then escapes the gateway's filtering), so it is refused and never forwarded.
      this.deps.log(`${this.server}: refused a "${method}" request reusing an id in flight`)
      this.sendToClient(
        errorLine(
          id,
          ErrorCode.InvalidRequest,
          `Invalid Request: a request with id ${JSON.stringify(id)} is still in flight in this session; use a new id (this one was not forwarded)`,
        ),
      )
      return false
    }
    if ('params' in msg && !isObject(msg.params)) {
      // MCP params are objects; servers drop other shapes without an answer.
      if (method === 'tools/call')
        this.refuseMalformed(method, msg.params, '"params" is not an object')
      this.sendToClient(
        errorLine(
          id,
          ErrorCode.InvalidParams,
          `Invalid params: "params" of "${excerpt(method, 64)}" must be an object; the request was not forwarded`,
        ),
      )
      return false
    }
    if (method === 'initialize') {
      this.initializeMsg = msg
      if (isObject(msg.params) && isObject(msg.params.clientInfo)) {
        const name = msg.params.clientInfo.name
        if (typeof name === 'string') this.client = excerpt(name, 64)
      }
    }
    if (method === 'tools/call') return this.toolsCall(id, msg.params, raw)
    const firstPage = method === 'tools/list' && !(isObject(msg.params) && msg.params.cursor)
    this.pending.set(idKey(id), firstPage ? { method, firstPage } : { method })
    return true
  }

  /**
   * Records a malformed request that was not forwarded (`refused: malformed`): a request method
   * without a usable id, or a tools/call whose params are not an object with a string name.
   */
  private refuseMalformed(method: string, params: unknown, what: string): void {
    const p = isObject(params) ? params : {}
    const isCall = method === 'tools/call'
    this.record({
      kind: 'call',
      callId: `${this.id}.${++this.callSeq}`,
      session: this.id,
      client: this.client,
      server: this.server,
      tool: isCall && typeof p.name === 'string' ? p.name : excerpt(method, 64),
      ...(isCall && isObject(p.arguments) ? { args: p.arguments } : {}),
      decision: 'deny',
      decidedBy: 'gateway',
      reason: `refused: malformed (${what}); not forwarded`,
    })
  }

  private cancelled(params: unknown): boolean {
    if (!isObject(params) || !isId(params.requestId)) return true
    const key = idKey(params.requestId)
    const h = this.held.get(key)
    if (h) {
      h.abort.abort() // The call was never forwarded: the server must not hear of it.
      return false
    }
    // A forwarded call the client gave up on: its outcome is "cancelled" now (the server may
    // never answer a cancelled request). It reached the server, so its reservation counts.
    const p = this.pending.get(key)
    if (p?.call) {
      this.pending.delete(key)
      this.finishCall(p.call, 'cancelled', 'cancelled by the client', true)
      this.unanswered(key)
    }
    return true
  }

  private toolsCall(id: string | number, params: unknown, raw: Buffer | undefined): boolean {
    if (isObject(params) && typeof params.name === 'string' && this.waitForOwnList(id, params, raw))
      return false
    const callId = `${this.id}.${++this.callSeq}`
    if (!isObject(params) || typeof params.name !== 'string') {
      this.refuseMalformed('tools/call', params, '"params.name" is not a string')
      this.sendToClient(
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
      this.sendToClient(
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
      session: this.id,
      client: this.client,
      server: this.server,
      tool,
      args,
    }

    if (this.deps.isPaused()) {
      this.record({ ...base, decision: 'paused', decidedBy: 'user', reason: 'Airlock is paused' })
      this.sendToClient(
        toolErrorLine(
          id,
          `${PREFIX} Airlock is paused: every tool call is denied until the user resumes.`,
        ),
      )
      return false
    }
    const live = this.deps.live.policyFor(this.server)
    if ('error' in live) {
      const reason = `the policy of "${this.server}" could not be loaded, so every call is denied: ${live.error}`
      this.record({ ...base, decision: 'deny', decidedBy: 'gateway', reason })
      this.sendToClient(toolErrorLine(id, `${PREFIX} ${reason}`))
      return false
    }
    const now = this.deps.now()
    const known = this.deps.toolClass?.(tool)
    const decision: Decision = decide(
      live.policy,
      { tool, args, sessionId: this.id, ...(known ? { risk: known } : {}) },
      this.deps.counters,
      now,
      {
        defaultApprovalTimeoutMs: this.deps.defaultApprovalTimeoutMs(),
        riskFloor: this.deps.live.config.settings.riskFloor,
      },
    )
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
        this.sendToClient(toolErrorLine(id, `${PREFIX} ${decision.reason}`))
        return false
      case 'hidden':
        this.record({ ...base, decision: 'hidden', decidedBy: 'policy' })
        this.sendToClient(unknownToolLine(id, tool))
        return false
      case 'needs_approval': {
        const digest = argsDigest(args)
        const grant = this.deps.grants.match(
          { server: this.server, tool, session: this.id, digest },
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
              reason: `grant: ${grant.scope}`,
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
   * A call of a tool this server never listed waits for one tools/list of the gateway's own (once
   * per session, bounded), so its class comes from the server's description and annotations, not
   * only its name. Returns true when the call was held; it is decided when the list is in.
   */
  private waitForOwnList(
    id: string | number,
    params: Record<string, unknown>,
    raw: Buffer | undefined,
  ): boolean {
    if (!this.deps.toolClass || !this.initialized || this.ownList?.done) return false
    if (this.deps.toolClass(params.name as string) !== undefined) return false
    const key = idKey(id)
    const abort = new AbortController()
    this.held.set(key, { abort })
    // Cancelled while waiting (never forwarded): its id is free again and it gets no answer.
    abort.signal.addEventListener('abort', () => {
      if (this.held.get(key)?.abort !== abort) return
      this.held.delete(key)
      this.unanswered(key)
    })
    const resume = (): void => {
      if (this.closed || abort.signal.aborted || this.held.get(key)?.abort !== abort) return
      this.held.delete(key)
      if (this.toolsCall(id, params, raw))
        this.sendToServer(
          raw ?? JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }),
        )
    }
    if (this.ownList) {
      this.ownList.waiting.push(resume)
      return true
    }
    const own: NonNullable<Session['ownList']> = { done: false, waiting: [resume] }
    this.ownList = own
    own.timer = setTimeout(() => {
      this.deps.log(`${this.server}: no answer to the gateway's tools/list; deciding by name`)
      this.ownListDone()
    }, this.deps.ownListTimeoutMs ?? 5000)
    own.timer.unref()
    this.sendToServer(JSON.stringify({ jsonrpc: '2.0', id: OWN_LIST_ID, method: 'tools/list' }))
    return true
  }

  /** The gateway's own tools/list is answered (or given up on): decide the calls that waited. */
  private ownListDone(): void {
    const own = this.ownList
    if (!own || own.done) return
    own.done = true
    if (own.timer) clearTimeout(own.timer)
    for (const resume of own.waiting.splice(0)) resume()
  }

  /** Writes the decision record, reserves counters, forwards. On an audit failure: denied. */
  private forwardCall(id: string | number, rec: AuditInput, reservations: Reservation[]): boolean {
    const reservation = reservations.length ? this.deps.counters.reserve(reservations) : undefined
    try {
      this.deps.audit.append(rec)
    } catch (err) {
      if (reservation !== undefined) this.deps.counters.rollback(reservation)
      this.deps.log(`${this.server}: ${(err as Error).message}`)
      this.sendToClient(
        toolErrorLine(
          id,
          `${PREFIX} the call was denied because the audit log could not be written: ${(err as Error).message}`,
        ),
      )
      return false
    }
    this.pending.set(idKey(id), {
      method: 'tools/call',
      call: { callId: rec.callId, tool: rec.tool, started: this.deps.now(), reservation },
    })
    return true
  }

  private hold(
    id: string | number,
    base: AuditInput & { args: Record<string, unknown> },
    decision: Extract<Decision, { kind: 'needs_approval' }>,
    digest: string,
    raw: Buffer | undefined,
  ): void {
    const key = idKey(id)
    const abort = new AbortController()
    this.held.set(key, { abort })
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
          session: this.id,
          client: this.client,
          server: this.server,
          tool: base.tool,
          argsExcerpt: excerpt(base.args, 1024),
          argsDigest: digest,
          rule: decision.rule,
          reason: decision.reason,
        },
        decision.timeoutMs,
        abort.signal,
      )
      .then((outcome) => this.approvalDone(id, key, base, decision, line, asked, outcome))
  }

  private approvalDone(
    id: string | number,
    key: string,
    base: AuditInput,
    decision: Extract<Decision, { kind: 'needs_approval' }>,
    line: Buffer,
    asked: number,
    outcome: ApprovalOutcome,
  ): void {
    this.held.delete(key)
    const approvalMs = this.deps.now() - asked
    const rec = { ...base, rule: decision.rule, approvalMs }
    const deny = (
      decisionKind: AuditDecision,
      decidedBy: DecidedBy,
      text: string,
      reason: string,
    ): void => {
      this.record({ ...rec, decision: decisionKind, decidedBy, reason })
      if (!this.closed) this.sendToClient(toolErrorLine(id, `${PREFIX} ${text}`))
    }
    const secs = Math.round(decision.timeoutMs / 1000)
    // Why a person was asked, for the audit record and the agent: the rule, or the risk floor.
    const why = decision.reason ?? (decision.rule ? `rule "${decision.rule}"` : 'the policy')
    switch (outcome.answer) {
      case 'allow_once':
      case 'allow_session':
      case 'allow_always':
        if (this.closed)
          return this.record({
            ...rec,
            decision: 'cancelled',
            decidedBy: 'gateway',
            reason: 'session ended before the approval',
          })
        if (outcome.answer !== 'allow_once') {
          this.deps.grants.add(
            {
              scope: outcome.answer === 'allow_session' ? 'session' : 'always',
              server: this.server,
              tool: base.tool,
              session: this.id,
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
          this.sendToServer(line)
        }
        return
      case 'deny':
        return deny(
          'denied_by_user',
          'user',
          `the user denied "${base.tool}" on "${this.server}" (approval was needed: ${why}).`,
          `${why}; denied by ${outcome.by}`,
        )
      case 'timeout':
        return deny(
          'timeout',
          'timeout',
          `"${base.tool}" needs the user's approval (${why}) and nobody answered within ${secs} s, so it was denied. Ask the user to allow it in Airlock (the pending request in the app, or Activity → allow the retry); an identical retry of this call is then let through.`,
          `${why}; no answer within ${secs} s`,
        )
      case 'no_approver':
        return deny(
          'deny',
          'gateway',
          `"${base.tool}" needs the user's approval (${why}) and no approver is available, so it was denied. Ask the user to open Airlock (the desktop app, or "airlock open" for the web UI of "airlock serve") and retry: the request then waits for their Allow or Deny.`,
          `${why}; no approver available`,
        )
      case 'cancelled':
        this.record({
          ...rec,
          decision: 'cancelled',
          decidedBy: 'gateway',
          reason: this.closed ? 'client disconnected' : 'cancelled by the client',
        })
        this.unanswered(key)
        return
      default: {
        const never: never = outcome
        throw new Error(`unhandled approval outcome ${JSON.stringify(never)}`)
      }
    }
  }

  // ── server → client ──────────────────────────────────────────────────────

  private fromServer(line: Buffer): void {
    if (this.pending.size === 0 && !(this.ownList && !this.ownList.done)) {
      this.sendToClient(line, true) // nothing to match: a notification or a server request
      return
    }
    let msg: unknown
    try {
      msg = JSON.parse(line.toString('utf8'))
    } catch {
      this.deps.log(`${this.server}: dropped an unparseable server line (${line.length} bytes)`)
      return
    }
    const finished: Finished[] = []
    if (Array.isArray(msg)) {
      let changed = false
      const out = msg
        .map((m) => {
          const r = this.serverMessage(m, finished)
          if (r !== m) changed = true
          return r
        })
        .filter((r) => r !== DROP)
      if (out.length > 0) this.sendToClient(changed ? JSON.stringify(out) + '\n' : line, !changed)
    } else {
      const out = this.serverMessage(msg, finished)
      if (out === msg) this.sendToClient(line, true)
      else if (out !== DROP) this.sendToClient(JSON.stringify(out) + '\n')
    }
    // The outcome record follows the response: the decision was recorded before forwarding,
    // and the agent need not wait for the bookkeeping.
    for (const f of finished) this.finishCall(f.call, f.outcome, f.detail, f.success)
  }

  /** Handles a server message; returns it (same object when unchanged), or DROP. */
  private serverMessage(msg: unknown, finished: Finished[]): unknown {
    if (!isObject(msg) || 'method' in msg || !isId(msg.id)) return msg
    if (msg.id === OWN_LIST_ID && this.ownList && !this.ownList.done) {
      if (isObject(msg.result) && Array.isArray(msg.result.tools))
        this.deps.onToolsList?.(msg.result.tools as unknown[], true)
      this.ownListDone()
      return DROP
    }
    const key = idKey(msg.id)
    const p = this.pending.get(key)
    if (!p) return msg
    this.pending.delete(key)
    if (p.method === REINIT_ID) return DROP
    if (p.call) {
      const result = msg.result
      if (isObject(msg.error)) {
        finished.push({
          call: p.call,
          outcome: 'error',
          detail: typeof msg.error.message === 'string' ? msg.error.message : 'error',
          success: false,
        })
      } else if (isObject(result) && result.isError === true) {
        finished.push({
          call: p.call,
          outcome: 'is_error',
          detail: firstText(result),
          success: false,
        })
      } else {
        finished.push({
          call: p.call,
          outcome: 'ok',
          detail: isObject(result) ? firstText(result) : undefined,
          success: true,
        })
      }
      return msg
    }
    if (p.method === 'initialize' && isObject(msg.result)) this.initialized = true
    if (p.method === 'tools/list' && isObject(msg.result) && Array.isArray(msg.result.tools)) {
      const live = this.deps.live.policyFor(this.server)
      const tools = msg.result.tools as unknown[]
      this.deps.onToolsList?.(tools, p.firstPage === true)
      const kept =
        'error' in live
          ? []
          : tools.filter(
              (t) => !(isObject(t) && typeof t.name === 'string' && isHidden(live.policy, t.name)),
            )
      if (kept.length !== tools.length) return { ...msg, result: { ...msg.result, tools: kept } }
    }
    return msg
  }

  private finishCall(
    call: NonNullable<Pending['call']>,
    outcome: AuditOutcome,
    detail: string | undefined,
    success: boolean,
  ): void {
    if (call.reservation !== undefined) {
      if (success) this.deps.counters.commit(call.reservation)
      else this.deps.counters.rollback(call.reservation)
    }
    this.record({
      kind: 'outcome',
      callId: call.callId,
      session: this.id,
      client: this.client,
      server: this.server,
      tool: call.tool,
      outcome,
      detail,
      latencyMs: this.deps.now() - call.started,
    })
  }

  /**
   * The server exited or could not start. Pending requests get an error naming the server and
   * why; the next request starts it again (replaying the client's initialize). After
   * {@link MAX_CRASHES} within a minute the session ends, with a last word to the shim.
   */
  private serverGone(what: string): void {
    if (this.closed) return
    const child = this.child
    this.child = undefined
    if (child) void killTree(child) // a grandchild may still hold the group
    const now = this.deps.now()
    this.crashes.push(now)
    while (this.crashes.length && now - (this.crashes[0] as number) > CRASH_WINDOW_MS)
      this.crashes.shift()
    const ends = this.crashes.length >= MAX_CRASHES
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ')
    const why = `${what}${tail ? `. Last stderr: ${excerpt(tail, 400)}` : ''}`
    const next = ends
      ? `it stopped ${MAX_CRASHES} times within a minute, so the session ends; fix the server (see "airlock status"), then restart it in your client`
      : 'Airlock starts it again on the next request'
    const message = `MCP server "${this.server}" ${what} before answering; ${next}.${tail ? ` Last stderr: ${excerpt(tail, 400)}` : ''}`
    this.deps.onServerGone?.(why)
    for (const [key, p] of this.pending) {
      if (p.call) this.finishCall(p.call, 'server_exit', what, true) // it may have run
      if (p.method !== REINIT_ID)
        this.sendToClient(errorLine(idFromKey(key), ErrorCode.ServerGone, message))
    }
    this.pending.clear()
    this.toServer = []
    if (!ends) {
      this.deps.log(`${this.server}: server ${what}; session ${this.id} restarts it on demand`)
      return
    }
    this.deps.log(`${this.server}: server ${what} ${MAX_CRASHES} times; session ${this.id} ends`)
    this.sendToClient(notificationLine(SESSION_ENDED_METHOD, { reason: message }))
    void this.close(`server ${what}`)
  }

  /** Starts a server that went away again, re-initialized with the client's own initialize. */
  private restartServer(): void {
    this.deps.log(`${this.server}: starting the server again for session ${this.id}`)
    this.spawnServer()
    if (!this.initializeMsg) return
    this.pending.set(idKey(REINIT_ID), { method: REINIT_ID })
    this.toServer.push(Buffer.from(JSON.stringify({ ...this.initializeMsg, id: REINIT_ID })), NL)
    if (this.initializedLine) this.toServer.push(this.initializedLine, NL)
  }

  // ── plumbing ─────────────────────────────────────────────────────────────

  private record(input: AuditInput): void {
    try {
      this.deps.audit.append(input)
    } catch (err) {
      // Only reached for calls that are not forwarded: the refusal stands, the failure is logged.
      this.deps.log(`${this.server}: ${(err as Error).message}`)
    }
  }

  // Output is coalesced: everything produced while handling one chunk (or one event) goes out
  // in one write per direction at the end of the task — one syscall instead of one per message,
  // which matters when many calls are in flight.
  private toServer: Buffer[] = []
  private toClient: Buffer[] = []
  private flushQueued = false

  private sendToServer(data: Buffer | string): void {
    if (this.closed) return
    if (!this.child) this.restartServer()
    this.toServer.push(typeof data === 'string' ? Buffer.from(data) : data, NL)
    this.queueFlush()
  }

  private sendToClient(data: Buffer | string, addNewline = false): void {
    if (this.closed) return
    if (this.batches.length > 0 && this.toBatch(data)) return
    this.toClient.push(typeof data === 'string' ? Buffer.from(data) : data)
    if (addNewline) this.toClient.push(NL)
    this.queueFlush()
  }

  /**
   * Takes the answers among `data` (one JSON line, or a batch of the server's) that belong to a
   * client batch; true when nothing is left to send on its own.
   */
  private toBatch(data: Buffer | string): boolean {
    let msg: unknown
    try {
      msg = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'))
    } catch {
      return false
    }
    const take = (m: unknown): boolean => {
      if (!isObject(m) || 'method' in m || !('id' in m)) return false
      const batch =
        m.id === null
          ? this.collecting
          : isId(m.id)
            ? this.batches.find((b) => b.waiting.has(idKey(m.id as string | number)))
            : undefined
      if (!batch) return false
      batch.answers.push(m)
      if (m.id !== null) this.settleInBatch(batch, idKey(m.id as string | number))
      return true
    }
    if (!Array.isArray(msg)) return take(msg)
    const rest = msg.filter((m) => !take(m))
    if (rest.length === msg.length) return false
    if (rest.length > 0) {
      this.toClient.push(Buffer.from(JSON.stringify(rest.length === 1 ? rest[0] : rest)), NL)
      this.queueFlush()
    }
    return true
  }

  private settleInBatch(batch: Batch, key: string): void {
    const n = (batch.waiting.get(key) ?? 1) - 1
    if (n > 0) batch.waiting.set(key, n)
    else batch.waiting.delete(key)
    this.batchProgress(batch)
  }

  /** A request of a batch that will get no answer (cancelled): the batch stops waiting for it. */
  private unanswered(key: string): void {
    const batch = this.batches.find((b) => b.waiting.has(key))
    if (batch) this.settleInBatch(batch, key)
  }

  /** Sends a batch's response once it is read and every request in it is answered. */
  private batchProgress(batch: Batch): void {
    if (batch.open || batch.waiting.size > 0) return
    this.batches = this.batches.filter((b) => b !== batch)
    if (batch.answers.length === 0 || this.closed) return
    this.toClient.push(Buffer.from(JSON.stringify(batch.answers)), NL)
    this.queueFlush()
  }

  private queueFlush(): void {
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => this.flush())
  }

  private flush(): void {
    this.flushQueued = false
    if (this.toServer.length) {
      const out = Buffer.concat(this.toServer)
      this.toServer = []
      if (!this.closed && this.child && !this.child.stdin.destroyed && !this.child.stdin.write(out))
        this.link.pause()
    }
    if (this.toClient.length) {
      const out = Buffer.concat(this.toClient)
      this.toClient = []
      if (!this.link.write([out]) && this.child) this.child.stdout.pause()
    }
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

/** The JSON-RPC id behind an {@link idKey}. */
function idFromKey(key: string): JsonRpcId {
  return key[0] === 's' ? key.slice(1) : Number(key.slice(1))
}

function firstText(result: Record<string, unknown>): string | undefined {
  const content = result.content
  if (!Array.isArray(content)) return undefined
  const t = content.find((c) => isObject(c) && c.type === 'text' && typeof c.text === 'string') as
    { text: string } | undefined
  return t ? excerpt(t.text, 1024) : undefined
}
