/**
 * One agent session: the relay between a client link (the shim's socket, or an MCP HTTP
 * session) and an upstream link to its server ({@link UpstreamLink}; a child process on stdio
 * today). Every message is parsed once; anything but `tools/call` and `tools/list` is forwarded
 * as the original bytes, in order, both ways. `tools/call` goes through the session's
 * {@link CallGate} (policy, grants, approval, audit: the decision is recorded before the call is
 * forwarded), and its outcome is recorded when the server answers. Each side is closed once.
 */
import type { ServerConfig } from '../../shared/contract/config'
import { excerpt } from '../../shared/text'
import { LineSplitter } from '../../node/framing/line-splitter'
import {
  ErrorCode,
  errorLine,
  idKey,
  isId,
  isObject,
  notificationLine,
  type JsonRpcId,
} from '../../node/jsonrpc'
import { CallGate, type CallGateDeps, type Finished, type ForwardedCall } from './call-gate'
import type { UpstreamLink } from './upstream-link'

export type { AuditSink } from './call-gate'

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
export interface SessionDeps extends CallGateDeps {
  id: string
  server: ServerConfig
  /**
   * A new, not yet started link to the server; called at the start and again for each restart
   * after the server went away.
   */
  upstream: (server: ServerConfig) => UpstreamLink
  onClose: (session: Session) => void
  /** The client said who it is (initialize's clientInfo): lists of sessions can name it now. */
  onClientInfo?: (session: Session) => void
  /**
   * Sees every tools/list page the server answers, before hidden tools are removed; `first`
   * when it answers a request without a cursor (the list starts anew).
   */
  onToolsList?: (tools: unknown[], first: boolean) => void
  /**
   * Whether the first call of a session whose client has not listed the tools yet waits for the
   * gateway's own tools/list (tool pinning: the call is checked against what the server lists
   * now, not what an earlier session saw). Read at each call; default false.
   */
  listBeforeFirstCall?: () => boolean
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
  call?: ForwardedCall
}

/** A tools/call held for a person's answer. */
interface Held {
  abort: AbortController
}

/** A forwarded call waiting for its staged decision record to be written. */
interface Gated {
  id: string | number
  key: string
  call: ForwardedCall
}

/** A client batch whose answers are collected into one batch response. */
interface Batch {
  /** idKey → number of requests of the batch with that id still unanswered. */
  waiting: Map<string, number>
  answers: unknown[]
  /** Still being read: answers with a null id (invalid elements) belong to it. */
  open: boolean
}

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
/**
 * Sent by the shim when its client closed its input with requests still unanswered (requests
 * piped in): the session answers them, then ends. The shim keeps its socket open meanwhile, so
 * that the gateway still sees it go if it dies. Never forwarded to the server.
 */
export const INPUT_ENDED_METHOD = 'notifications/airlock/input_ended'
const NL = Buffer.from('\n')

/**
 * Whether a server line may hold a request the policy decides (server_requests): only such
 * lines leave the fast path. A match inside a string is parsed and then passed on unchanged.
 */
function mayHoldServerRequest(line: Buffer): boolean {
  return (
    line.includes('"method"') &&
    (line.includes('sampling/createMessage') ||
      line.includes('elicitation/create') ||
      line.includes('roots/list'))
  )
}

/** A live agent session. */
export class Session {
  readonly id: string
  readonly server: string
  client = 'unknown'
  /** The client's `clientInfo.version` from its `initialize`, when it gave one. */
  clientVersion: string | undefined = undefined
  readonly startedAt: number
  /** The link to the server; undefined after the server went away (until the next request). */
  private upstream?: UpstreamLink
  private readonly gate: CallGate
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
  /** Whether the server answered `initialize` (it is running and can be asked for its tools). */
  private initialized = false
  /** Whether a tools/list answer of this session's server went by (the client's or the gateway's). */
  private listSeen = false
  /** The gateway's own tools/list (at most one per session), and the calls waiting for it. */
  private ownList?: { done: boolean; waiting: (() => void)[]; timer?: NodeJS.Timeout }

  constructor(
    private readonly deps: SessionDeps,
    private readonly link: ClientLink,
  ) {
    this.id = deps.id
    this.server = deps.server.name
    this.startedAt = deps.now()
    const relay = this // eslint-disable-line @typescript-eslint/no-this-alias
    this.gate = new CallGate(deps, {
      id: this.id,
      server: this.server,
      get client() {
        return relay.client
      },
      get clientVersion() {
        return relay.clientVersion
      },
      isClosed: () => this.closed,
      toClient: (data, addNewline) => this.sendToClient(data, addNewline),
      toServer: (data) => this.sendToServer(data),
      forwarded: (id, call) => {
        const key = idKey(id)
        this.pending.set(key, { method: 'tools/call', call })
        // Its line is the next one sent to the server; it goes only once its record is written.
        if (call.ticket) this.forwarding = { id, key, call }
      },
      hold: (key, abort) => this.held.set(key, { abort }),
      release: (key) => this.held.delete(key),
      unanswered: (key) => this.unanswered(key),
    })
  }

  /** Starts the server and wires both directions. */
  start(): void {
    this.link.onDrain(() => this.upstream?.resume())
    this.startUpstream()
  }

  private startUpstream(): void {
    const upstream = this.deps.upstream(this.deps.server)
    this.upstream = upstream
    upstream.start({
      onmessage: (message) => this.fromServer(message),
      onoversize: (bytes) =>
        this.deps.log(
          `${this.server}: dropped a server message over the size cap (${bytes} bytes)`,
        ),
      ondrain: () => this.link.resume(),
      onclose: (what, lastWords) => {
        if (this.upstream === upstream) this.serverGone(what, lastWords)
      },
    })
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

  /**
   * The client closed its input but still reads (requests piped in; {@link INPUT_ENDED_METHOD}):
   * as a server does when its stdin ends, the requests it sent are answered, then the session ends.
   */
  clientEnded(): void {
    if (this.closed) return
    this.inputEnded = true
    this.endIfDone()
  }

  private inputEnded = false
  private endCheck: ReturnType<typeof setImmediate> | undefined

  /** After the client's input ended: closes the session once nothing it asked is outstanding. */
  private endIfDone(): void {
    if (!this.inputEnded || this.closed || this.endCheck) return
    // On the next turn: a decided approval releases its hold before it forwards the call.
    this.endCheck = setImmediate(() => {
      this.endCheck = undefined
      const waiting =
        this.pending.size > 0 ||
        this.held.size > 0 ||
        this.batches.length > 0 ||
        (this.ownList !== undefined && !this.ownList.done)
      if (!this.closed && !waiting) void this.close('client closed its input')
    })
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
    this.gate.closeServerRequests()
    // Forwarded calls may have run: their reservations stand whatever the client does now.
    for (const p of this.pending.values())
      if (p.call) this.gate.finish(p.call, 'cancelled', why, true)
    this.pending.clear()
    this.deps.grants.endSession(this.id)
    this.link.end()
    this.deps.onClose(this)
    if (this.upstream) await this.upstream.close()
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
      if (method === INPUT_ENDED_METHOD) {
        this.clientEnded()
        return false
      }
      if (method.startsWith('notifications/')) {
        if (method === 'notifications/initialized' && raw) this.initializedLine = Buffer.from(raw)
        return true
      }
      // A request method without an id: a server that runs it anyway would run it unanswered,
      // with no decision and no record. Only requests call tools, so it is never forwarded.
      this.gate.refuseMalformed(method, msg.params, 'a request without an "id"')
      return false
    }
    if (!isId(id) || id === null) {
      this.deps.log(`${this.server}: dropped a "${method}" request with an invalid id`)
      this.gate.refuseMalformed(
        method,
        msg.params,
        'a request whose "id" is not a string or a number',
      )
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
        this.gate.refuseMalformed(method, msg.params, '"params" is not an object')
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
        const version = msg.params.clientInfo.version
        if (typeof version === 'string') this.clientVersion = excerpt(version, 64)
        this.deps.onClientInfo?.(this)
      }
    }
    if (method === 'tools/call') return this.toolsCall(id, msg.params, raw)
    const firstPage = method === 'tools/list' && !(isObject(msg.params) && msg.params.cursor)
    this.pending.set(idKey(id), firstPage ? { method, firstPage } : { method })
    return true
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
      this.gate.finish(p.call, 'cancelled', 'cancelled by the client', true)
      this.unanswered(key)
    }
    return true
  }

  private toolsCall(id: string | number, params: unknown, raw: Buffer | undefined): boolean {
    if (isObject(params) && typeof params.name === 'string' && this.waitForOwnList(id, params, raw))
      return false
    return this.gate.call(id, params, raw)
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
    if (!this.initialized || this.ownList?.done) return false
    const unseen =
      this.deps.toolClass?.(params.name as string) === undefined && !!this.deps.toolClass
    const fresh = !this.listSeen && this.deps.listBeforeFirstCall?.() === true
    if (!unseen && !fresh) return false
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

  // ── server → client ──────────────────────────────────────────────────────

  private fromServer(line: Buffer): void {
    if (
      this.pending.size === 0 &&
      !(this.ownList && !this.ownList.done) &&
      !mayHoldServerRequest(line)
    ) {
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
    if (Array.isArray(msg)) {
      let changed = false
      const out = msg
        .map((m) => {
          const r = this.serverMessage(m)
          if (r !== m) changed = true
          return r
        })
        .filter((r) => r !== DROP)
      if (out.length > 0) this.sendToClient(changed ? JSON.stringify(out) + '\n' : line, !changed)
    } else {
      const out = this.serverMessage(msg)
      if (out === msg) this.sendToClient(line, true)
      else if (out !== DROP) this.sendToClient(JSON.stringify(out) + '\n')
    }
    // The outcome records are made after the answers are written (flush): the decision was
    // recorded before forwarding, and the agent need not wait for the bookkeeping.
    if (this.finished.length > 0) this.queueFlush()
  }

  /**
   * Handles a server message; returns it (same object when unchanged), or DROP. An answered call
   * joins `finished`, for its outcome record after the flush.
   */
  private serverMessage(msg: unknown): unknown {
    if (isObject(msg) && typeof msg.method === 'string' && isId(msg.id) && msg.id !== null)
      return this.gate.serverRequest(msg.id, msg.method, msg.params) ? msg : DROP
    if (!isObject(msg) || 'method' in msg || !isId(msg.id)) return msg
    if (msg.id === OWN_LIST_ID && this.ownList && !this.ownList.done) {
      if (isObject(msg.result) && Array.isArray(msg.result.tools)) {
        this.listSeen = true
        this.deps.onToolsList?.(msg.result.tools as unknown[], true)
      }
      this.ownListDone()
      return DROP
    }
    const key = idKey(msg.id)
    const p = this.pending.get(key)
    if (!p) return msg
    this.pending.delete(key)
    if (p.method === REINIT_ID) return DROP
    if (p.call) {
      this.finished.push(this.gate.answered(p.call, msg))
      return msg
    }
    if (p.method === 'initialize' && isObject(msg.result)) this.initialized = true
    if (p.method === 'tools/list' && isObject(msg.result) && Array.isArray(msg.result.tools)) {
      const tools = msg.result.tools as unknown[]
      this.listSeen = true
      this.deps.onToolsList?.(tools, p.firstPage === true)
      const kept = this.gate.visibleTools(tools)
      if (kept !== tools) return { ...msg, result: { ...msg.result, tools: kept } }
    }
    return msg
  }

  /**
   * The server exited or could not start. Pending requests get an error naming the server and
   * why; the next request starts it again (replaying the client's initialize). After
   * {@link MAX_CRASHES} within a minute the session ends, with a last word to the shim.
   */
  private serverGone(what: string, lastWords: string): void {
    if (this.closed) return
    const upstream = this.upstream
    this.upstream = undefined
    if (upstream) void upstream.close() // a grandchild may still hold the group
    const now = this.deps.now()
    this.crashes.push(now)
    while (this.crashes.length && now - (this.crashes[0] as number) > CRASH_WINDOW_MS)
      this.crashes.shift()
    const ends = this.crashes.length >= MAX_CRASHES
    const tail = lastWords.trim().split('\n').slice(-3).join(' | ')
    const why = `${what}${tail ? `. Last stderr: ${excerpt(tail, 400)}` : ''}`
    const next = ends
      ? `it stopped ${MAX_CRASHES} times within a minute, so the session ends; fix the server (see "airlock status"), then restart it in your client`
      : this.deps.server.url !== undefined
        ? 'Airlock connects to it again on the next request'
        : 'Airlock starts it again on the next request'
    const message = `MCP server "${this.server}" ${what} before answering; ${next}.${tail ? ` Last stderr: ${excerpt(tail, 400)}` : ''}`
    this.deps.onServerGone?.(why)
    for (const [key, p] of this.pending) {
      if (p.call) this.gate.finish(p.call, 'server_exit', what, true) // it may have run
      if (p.method !== REINIT_ID)
        this.sendToClient(errorLine(idFromKey(key), ErrorCode.ServerGone, message))
    }
    this.pending.clear()
    this.toServer = []
    this.gated = []
    if (!ends) {
      this.deps.log(`${this.server}: server ${what}; session ${this.id} restarts it on demand`)
      return
    }
    this.deps.log(`${this.server}: server ${what} ${MAX_CRASHES} times; session ${this.id} ends`)
    this.sendToClient(notificationLine(SESSION_ENDED_METHOD, { reason: message }))
    void this.close(`server ${what}`)
  }

  /**
   * Restarts the server's process now (a person asked, from the Servers screen): requests in
   * flight get an error saying so (a forwarded call is recorded as ended by the server's exit,
   * since it may have run), the old process tree is ended, and a new one is started and
   * re-initialized with the client's own initialize. Resolves once the old process is gone.
   */
  async restart(): Promise<void> {
    if (this.closed) return
    const old = this.upstream
    this.upstream = undefined
    const message = `MCP server "${this.server}" was restarted from Airlock before answering; send the request again.`
    for (const [key, p] of this.pending) {
      if (p.call) this.gate.finish(p.call, 'server_exit', 'restarted from Airlock', true)
      if (p.method !== REINIT_ID)
        this.sendToClient(errorLine(idFromKey(key), ErrorCode.ServerGone, message))
    }
    this.pending.clear()
    this.toServer = []
    this.gated = []
    if (old) await old.close()
    if (this.closed || this.upstream) return
    this.restartServer()
    this.queueFlush()
  }

  /** Starts a server that went away again, re-initialized with the client's own initialize. */
  private restartServer(): void {
    this.deps.log(`${this.server}: starting the server again for session ${this.id}`)
    this.startUpstream()
    if (!this.initializeMsg) return
    this.pending.set(idKey(REINIT_ID), { method: REINIT_ID })
    this.toServer.push(Buffer.from(JSON.stringify({ ...this.initializeMsg, id: REINIT_ID })))
    if (this.initializedLine) this.toServer.push(this.initializedLine)
  }

  // ── plumbing ─────────────────────────────────────────────────────────────

  // Output is coalesced: everything produced while handling one chunk (or one event) goes out
  // in one write per direction at the end of the task — one syscall instead of one per message,
  // which matters when many calls are in flight.
  private toServer: Buffer[] = []
  private toClient: Buffer[] = []
  private flushQueued = false
  /** Calls the server answered in this turn: their outcome records are made after the answers go. */
  private finished: Finished[] = []
  /** A call just forwarded by the gate whose decision record is staged, not yet written. */
  private forwarding: Gated | undefined
  /** The calls among `toServer` whose decision records are staged (`index`: their line). */
  private gated: (Gated & { index: number })[] = []

  private sendToServer(data: Buffer | string): void {
    if (this.closed) return
    if (!this.upstream) this.restartServer()
    if (this.forwarding) {
      this.gated.push({ ...this.forwarding, index: this.toServer.length })
      this.forwarding = undefined
    }
    this.toServer.push(typeof data === 'string' ? Buffer.from(data) : data)
    this.queueFlush()
  }

  /**
   * Commits the audit log (one write for every record staged in this turn, of every session),
   * then drops from `out` the calls whose decision record could not be written: the gate
   * denies them, and the server never sees them.
   */
  private recorded(out: Buffer[]): Buffer[] {
    const gated = this.gated
    this.gated = []
    this.deps.audit.commit?.()
    let dropped: Set<number> | undefined
    for (const g of gated) {
      const ticket = g.call.ticket
      if (!ticket || ticket.state === 'written') continue
      ;(dropped ??= new Set()).add(g.index)
      if (this.pending.get(g.key)?.call === g.call) this.pending.delete(g.key)
      this.gate.unrecorded(
        g.id,
        g.call,
        ticket.error ?? new Error(`the decision record of ${g.call.callId} was not written`),
      )
    }
    return dropped ? out.filter((_, i) => !dropped.has(i)) : out
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
    this.endIfDone()
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
      let out = this.toServer
      this.toServer = []
      if (this.gated.length > 0) out = this.recorded(out)
      if (!this.closed && this.upstream && out.length > 0 && !this.upstream.send(out))
        this.link.pause()
    }
    if (this.toClient.length) {
      // What the agent is told has its record written first: a refusal's decision record is on
      // disk before the agent can read the refusal. (Outcome records are made just after.)
      this.deps.audit.commit?.()
      const out = Buffer.concat(this.toClient)
      this.toClient = []
      if (!this.link.write([out]) && this.upstream) this.upstream.pause()
    }
    if (this.finished.length > 0) {
      // Staged now, written with the next commit (this turn's, at the latest the next one's).
      const finished = this.finished
      this.finished = []
      for (const f of finished) this.gate.finish(f.call, f.outcome, f.detail, f.success, f.at)
    }
    this.endIfDone()
  }
}

/** The JSON-RPC id behind an {@link idKey}. */
function idFromKey(key: string): JsonRpcId {
  return key[0] === 's' ? key.slice(1) : Number(key.slice(1))
}
