/**
 * The gateway: owns the agent socket, the sessions, the approvals, grants, counters and the
 * audit log. Plain Node; hosted by `airlock serve` or (later) an Electron utilityProcess.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { AuditInput, AuditRecord } from '../shared/contract/audit-record'
import { headerSecretKey, isRemote, type ServerConfig } from '../shared/contract/config'
import { CounterStore } from '../shared/policy/counters'
import { ApprovalCenter } from './approvals/approvals'
import { AuditLog, type AuditTicket } from './audit'
import { Grants } from './approvals/grants'
import { ensureSecret, newChallenge, proof, proofMatches } from '../node/handshake'
import { LiveConfig } from './config/live-config'
import { dataPaths, ensureDataDir, socketPath } from '../node/paths'
import { ProcessGroups } from './proxy/process-groups'
import { spawnServer } from './proxy/server-process'
import { Session, type ClientLink } from './proxy/session'
import { StdioUpstream } from './proxy/stdio-upstream'
import { HttpUpstream, type RemoteTransport } from './proxy/http-upstream'
import type { UpstreamLink } from './proxy/upstream-link'
import { ToolCatalog } from './proxy/tool-catalog'
import { PinStore } from './proxy/tool-pins'
import { ControlConnection, type ControlEndpoint } from './control/control-connection'
import { FileSecretStore, type SecretStore } from './config/secret-store'
import { OAuthSignIn } from './proxy/oauth-sign-in'
import type { RemoteAuth } from './proxy/remote-inspector'

/** Options for a gateway. */
export interface GatewayOptions {
  home: string
  log?: (msg: string) => void
  now?: () => number
  /** Override the endpoint (tests). Defaults to the per-user socket or a named pipe. */
  endpoint?: string
  /** Values of the servers' secret env entries. Default: `secrets.json` (0600) in the data directory. */
  secrets?: SecretStore
  /** Opens a URL in the system browser (the desktop app: a remote server's sign-in page). */
  openExternal?: (url: string) => void
}

/** A summary of a live session, for status displays. */
export interface SessionInfo {
  id: string
  server: string
  client: string
  startedAt: number
  held: number
  /** How the agent reaches it: the shim (stdio) or the MCP HTTP endpoint. */
  transport: 'stdio' | 'http'
  /** HTTP sessions: ms since the last request ended (0 while one is in flight). */
  idleMs?: number
}

/** A server's processes as the Servers screen shows them. */
export interface ServerHealth {
  /** Process ids of its running processes (one per session). */
  pids: number[]
  /** When a process of it last started (epoch ms). */
  lastStartAt?: number
  /** Its last process exit: when, why, and whether Airlock ended it. */
  lastExit?: { at: number; reason: string; expected: boolean }
  /** The last lines it wrote to stderr (any session), at most {@link STDERR_TAIL_CHARS}. */
  stderr: string
}

/** Characters of a server's stderr kept for the Servers screen. */
export const STDERR_TAIL_CHARS = 4096

/** What an MCP HTTP session tells about itself (see Gateway.openSession). */
export interface HttpLinkInfo {
  /** Epoch ms of the last request's start or end. */
  lastActive: number
  /** Whether a request (or a GET stream) is in flight. */
  active: boolean
}

const HANDSHAKE_TIMEOUT_MS = 10_000
const HANDSHAKE_MAX_BYTES = 16 * 1024

/** Thrown by Gateway.openSession when the server is not configured (`NO_SERVER`) or disabled (`SERVER_DISABLED`). */
export class SessionRefusedError extends Error {
  override name = 'SessionRefusedError'
  constructor(
    message: string,
    readonly code: 'NO_SERVER' | 'SERVER_DISABLED',
  ) {
    super(message)
  }
}

/** Thrown when another gateway already serves this data directory. */
export class GatewayRunningError extends Error {
  override name = 'GatewayRunningError'
  readonly code = 'GATEWAY_RUNNING'
}

/**
 * The gateway process core. Events: `audit` (AuditRecord), `sessions` (SessionInfo[]), `paused`
 * (boolean), `config` (ReloadResult, after config.json or a policy changed), `tools` (server,
 * tools[] of a tools/list page), `pins` (server: its tools to review changed), `server-error`
 * (server, message).
 */
export class Gateway extends EventEmitter {
  readonly home: string
  readonly paths: ReturnType<typeof dataPaths>
  private readonly groups: ProcessGroups
  readonly live: LiveConfig
  readonly approvals: ApprovalCenter
  readonly grants: Grants
  /** The tools each server listed last, with their classes (kept in `<home>/tools/`). */
  readonly tools: ToolCatalog
  /** The pinned definition of each tool (kept in `<home>/pins/`). */
  readonly pins: PinStore
  readonly counters = new CounterStore()
  /** Opened by listen(), once this process owns the data directory. */
  audit!: AuditLog
  readonly endpoint: string
  readonly secrets: SecretStore
  /** Sign-ins to remote servers that use OAuth (their tokens live in `secrets`). */
  readonly oauth: OAuthSignIn
  /** The control API its control connections serve (set by the host: its ControlService). */
  control?: ControlEndpoint
  private readonly sessions = new Set<Session>()
  private readonly health = new Map<string, ServerHealth>()
  private readonly httpInfo = new WeakMap<Session, () => HttpLinkInfo>()
  private readonly sockets = new Set<net.Socket>()
  private server?: net.Server
  private secret: Buffer
  private sessionSeq = 0
  private readonly log: (msg: string) => void
  private readonly now: () => number
  private pausedFlag = false
  private pruneTimer?: NodeJS.Timeout

  constructor(opts: GatewayOptions) {
    super()
    this.home = opts.home
    this.log = opts.log ?? ((m) => process.stderr.write(`airlock: ${m}\n`))
    this.now = opts.now ?? Date.now
    this.paths = dataPaths(this.home)
    this.groups = new ProcessGroups(this.paths.serverGroups, (m) => this.log(m))
    // A data directory Airlock cannot write is one clear error (DataDirError), not a stack.
    ensureDataDir(this.home)
    this.secret = ensureSecret(this.paths.secret)
    this.secrets =
      opts.secrets ?? new FileSecretStore(path.join(this.home, 'secrets.json'), this.log)
    this.oauth = new OAuthSignIn({
      store: this.secrets,
      serverUrl: (name) => {
        const s = this.live.config.servers.find((x) => x.name === name)
        return s && isRemote(s) ? s.url : undefined
      },
      log: this.log,
      now: this.now,
      ...(opts.openExternal ? { openExternal: opts.openExternal } : {}),
    })
    this.live = new LiveConfig(this.home, this.log, (r) => {
      for (const name of r.hideChanged)
        for (const s of this.sessions) if (s.server === name) s.notifyToolsListChanged()
      this.emit('config', r)
    })
    this.live.reload()
    this.pausedFlag = this.live.config.settings.paused
    this.approvals = new ApprovalCenter(this.now)
    this.grants = new Grants(this.paths.grants, () => this.emit('grants'))
    this.tools = new ToolCatalog(path.join(this.home, 'tools'), (m) => this.log(m))
    this.pins = new PinStore(this.paths.pins, this.now, (m) => this.log(m))
    // A late "allow" after a timeout (or a denial with no approver) lets an identical retry
    // through once, within the late window.
    this.approvals.on(
      'late',
      ({
        req,
        answer,
        by,
      }: {
        req: { server: string; tool: string; argsDigest: string }
        answer: string
        by: string
      }) => {
        if (answer === 'deny') return
        const now = this.now()
        this.grants.add(
          {
            scope: 'call',
            server: req.server,
            tool: req.tool,
            digest: req.argsDigest,
            until: now + this.approvals.lateWindowMs,
            by,
          },
          now,
        )
      },
    )
    this.endpoint = opts.endpoint ?? defaultEndpoint(this.home, this.paths.pipeName)
  }

  /**
   * Appends an audit record (and whatever is staged before it) now, and announces it. Throws
   * when the write fails.
   */
  appendAudit(input: AuditInput): AuditRecord {
    return this.audit.append(input)
  }

  /** Written records not announced yet (a staged batch's: announced on the next turn). */
  private unannounced: AuditTicket[] = []

  /**
   * Announces written records as `audit` events (record, ticket: where it went). A staged
   * batch was written on a call's path: its events (the Activity index, the UI) wait for the
   * next turn of the event loop, all of them at once. `append`'s caller waits for its own.
   */
  private audited(tickets: readonly AuditTicket[], inAppend: boolean): void {
    if (this.listenerCount('audit') === 0) return
    if (!inAppend) {
      if (this.unannounced.length === 0) setImmediate(() => this.announce())
      for (const t of tickets) this.unannounced.push(t)
      return
    }
    this.announce() // in seq order
    for (const t of tickets) this.emit('audit', t.record, t)
  }

  private announce(): void {
    const tickets = this.unannounced
    if (tickets.length === 0) return
    this.unannounced = []
    for (const t of tickets) this.emit('audit', t.record, t)
  }

  /** Re-reads config.json and the policies now (after writing them), notifying sessions and listeners. */
  reloadConfig(): void {
    const r = this.live.reload()
    for (const name of r.hideChanged)
      for (const s of this.sessions) if (s.server === name) s.notifyToolsListChanged()
    this.emit('config', r)
  }

  /** The server config with its secret env values (from the secret store) merged in, for spawning. */
  withSecrets(server: ServerConfig): ServerConfig {
    if (server.secretEnv.length === 0) return server
    const env = { ...server.env }
    for (const key of server.secretEnv) {
      try {
        const v = this.secrets.get(server.name, key)
        if (v !== undefined) env[key] = v
      } catch (err) {
        this.log(`${server.name}: secret ${key} is not available (${(err as Error).message})`)
      }
    }
    return { ...server, env }
  }

  /** A remote server's headers with the secret ones (from the secret store) merged in. */
  remoteHeaders(server: ServerConfig): Record<string, string> {
    const headers = { ...server.headers }
    for (const key of server.secretHeaders ?? []) {
      try {
        const v = this.secrets.get(server.name, headerSecretKey(key))
        if (v !== undefined) headers[key] = v
        else this.log(`${server.name}: secret header ${key} has no stored value; it is not sent`)
      } catch (err) {
        this.log(
          `${server.name}: secret header ${key} is not available (${(err as Error).message})`,
        )
      }
    }
    return headers
  }

  /**
   * The OAuth client of a remote server sending `headers`: its stored tokens, refreshed; none
   * when the user gave Airlock an Authorization header of its own to send.
   */
  remoteAuth(server: string, headers: Record<string, string>): RemoteAuth | undefined {
    if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) return undefined
    return { authProvider: this.oauth.provider(server), fetch: this.oauth.fetch(server) }
  }

  /** The transport each remote server last answered on (by server name). */
  readonly remoteTransports = new Map<string, RemoteTransport>()

  /** Records the transport remote server `name` answered on (a session's, or discovery's). */
  noteRemoteTransport(name: string, transport: RemoteTransport): void {
    if (this.remoteTransports.get(name) === transport) return
    this.remoteTransports.set(name, transport)
    this.emit('sessions', this.sessionList())
  }

  /** The link a session of `server` reaches it through: a remote connection or a child process. */
  private upstreamFor(server: ServerConfig, clientCwd: string | undefined): UpstreamLink {
    if (isRemote(server)) {
      const headers = this.remoteHeaders(server)
      const oauth = this.remoteAuth(server.name, headers)
      return new HttpUpstream(server.name, {
        url: server.url,
        headers,
        ...(oauth
          ? {
              ...oauth,
              onSignInRequired: () => this.oauth.requireSignIn(server.name),
            }
          : {}),
        onTransport: (t) => this.noteRemoteTransport(server.name, t),
        log: this.log,
      })
    }
    return new StdioUpstream(server, {
      spawn: (c) => {
        const child = spawnServer(this.withSecrets({ ...c, cwd: c.cwd ?? clientCwd }))
        this.groups.track(child, c.name)
        this.trackProcess(c.name, child)
        return child
      },
      log: this.log,
      onExit: (info) => this.processEnded(server.name, info),
    })
  }

  /** Remote servers whose agents are refused until someone signs in (OAuth). */
  signInsNeeded(): { server: string; state: 'needs-sign-in' | 'signing-in' }[] {
    return this.live.config.servers.flatMap((s) => {
      const st = isRemote(s) && s.enabled ? this.oauth.state(s.name)?.state : undefined
      return st === 'needs-sign-in' || st === 'signing-in' ? [{ server: s.name, state: st }] : []
    })
  }

  /** Whether every call is denied until resumed. */
  get paused(): boolean {
    return this.pausedFlag
  }

  /** Pauses or resumes all tool calls. */
  setPaused(paused: boolean): void {
    this.pausedFlag = paused
    this.emit('paused', paused)
  }

  /** A server's processes: running pids, last start, last exit, stderr tail. */
  serverHealth(name: string): ServerHealth {
    const h = this.health.get(name)
    return h ? { ...h, pids: [...h.pids] } : { pids: [], stderr: '' }
  }

  /**
   * Restarts every running process of server `name` (each session's own), re-initialized with
   * its client's initialize. Resolves with the number of sessions restarted (0: none running).
   */
  async restartServer(name: string): Promise<number> {
    const mine = [...this.sessions].filter((s) => s.server === name)
    this.log(`${name}: restarting ${mine.length} session(s) at the user's request`)
    await Promise.all(mine.map((s) => s.restart()))
    return mine.length
  }

  private healthOf(name: string): ServerHealth {
    let h = this.health.get(name)
    if (!h) {
      h = { pids: [], stderr: '' }
      this.health.set(name, h)
    }
    return h
  }

  /** Follows a server's new process: its start, its stderr; its exit comes from the upstream. */
  private trackProcess(name: string, child: ChildProcessWithoutNullStreams): void {
    const h = this.healthOf(name)
    if (child.pid !== undefined) {
      h.pids.push(child.pid)
      h.lastStartAt = this.now()
    }
    child.stderr.on('data', (chunk: Buffer) => {
      h.stderr = (h.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS)
    })
    this.emit('server-state', name)
  }

  private processEnded(
    name: string,
    info: { pid: number | undefined; reason: string; expected: boolean },
  ): void {
    const h = this.healthOf(name)
    if (info.pid !== undefined) h.pids = h.pids.filter((p) => p !== info.pid)
    h.lastExit = { at: this.now(), reason: info.reason, expected: info.expected }
    this.emit('server-state', name)
  }

  /** Live sessions. */
  sessionList(): SessionInfo[] {
    const now = this.now()
    return [...this.sessions].map((s) => {
      const http = this.httpInfo.get(s)?.()
      return {
        id: s.id,
        server: s.server,
        client: s.client,
        startedAt: s.startedAt,
        held: s.heldCount(),
        transport: http ? 'http' : 'stdio',
        ...(http ? { idleMs: http.active ? 0 : Math.max(0, now - http.lastActive) } : {}),
      }
    })
  }

  /** Starts listening on the agent socket (0600, in a 0700 directory). */
  async listen(): Promise<void> {
    if (process.platform !== 'win32') prepareSocketDir(path.dirname(this.endpoint))
    await this.takeLock()
    try {
      this.groups.reapOrphans()
      await this.listenLocked()
    } catch (err) {
      this.releaseLock()
      throw err
    }
  }

  /**
   * One gateway per data directory: `gateway.pid`, created exclusively, is the lock (several
   * shims may start a gateway at the same moment; only one may own the socket and the audit log).
   */
  private async takeLock(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(this.paths.pid, `${process.pid}\n`, { mode: 0o600, flag: 'wx' })
        this.ownsLock = true
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      let holder = NaN
      try {
        holder = Number(fs.readFileSync(this.paths.pid, 'utf8').trim())
      } catch {
        // Removed meanwhile: try again.
      }
      // Our own pid: another Gateway in this process holds it (tests, or a host running two).
      if (holder > 0 && pidAlive(holder)) {
        throw new GatewayRunningError(
          `another Airlock gateway (pid ${holder}) is already running for ${this.home} (socket ${this.endpoint}); stop it first or use it (if pid ${holder} is not Airlock, remove ${this.paths.pid})`,
        )
      }
      // Stale: its process is gone. Remove it only if it still names that process.
      try {
        if (
          Number(fs.readFileSync(this.paths.pid, 'utf8').trim()) === holder ||
          Number.isNaN(holder)
        )
          fs.rmSync(this.paths.pid, { force: true })
      } catch {
        // Gone already.
      }
    }
    throw new GatewayRunningError(
      `could not take ${this.paths.pid}: another gateway is starting for ${this.home}`,
    )
  }

  private ownsLock = false

  private releaseLock(): void {
    if (!this.ownsLock) return
    this.ownsLock = false
    try {
      if (fs.readFileSync(this.paths.pid, 'utf8').trim() === String(process.pid))
        fs.rmSync(this.paths.pid)
    } catch {
      // No lock file: nothing to release.
    }
  }

  private async listenLocked(): Promise<void> {
    if (await isAnswering(this.endpoint)) {
      throw new GatewayRunningError(
        `another Airlock gateway is already running for ${this.home} (socket ${this.endpoint}); stop it first or use it`,
      )
    }
    if (process.platform !== 'win32') fs.rmSync(this.endpoint, { force: true })
    const a = this.live.config.settings.audit
    this.audit = AuditLog.open({
      dir: this.paths.audit,
      durability: a.durability,
      retentionDays: a.retentionDays,
      maxFileBytes: a.maxFileBytes,
      argsMaxBytes: a.argsMaxBytes,
      redactKeys: a.redactKeys,
      resultExcerpts: a.resultExcerpts,
      // Group commit: one fdatasync for the records of a 5 ms window (the decision record is
      // always written to the file before its call is forwarded; strict mode syncs each).
      groupCommitMs: 5,
      now: this.now,
      log: this.log,
    })
    this.audit.onWritten = (tickets, inAppend) => this.audited(tickets, inAppend)
    const server = net.createServer((socket) => this.accept(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      const oldMask = process.platform !== 'win32' ? process.umask(0o177) : 0
      server.listen(this.endpoint, () => {
        if (process.platform !== 'win32') process.umask(oldMask)
        resolve()
      })
    })
    if (process.platform !== 'win32') fs.chmodSync(this.endpoint, 0o600)
    this.live.watch()
    this.pruneTimer = setInterval(() => this.counters.prune(this.now()), 60_000)
    this.pruneTimer.unref()
  }

  /**
   * Stops: pending approvals ended unanswered (denied by the gateway), sessions ended (their requests in flight answered with
   * `why` and the retry hint), the socket, the lock and the audit log closed.
   */
  async close(why = 'the gateway is shutting down'): Promise<void> {
    this.live.close()
    this.oauth.close()
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    this.approvals.endAll(why)
    // Let each waiting call tell its agent why it was not run before its session closes.
    await new Promise((r) => setImmediate(r))
    await Promise.all(
      [...this.sessions].map((s) =>
        s.close(
          'gateway shutting down',
          `Airlock: ${why}, so this request was not completed; it may not have run. Retry it once Airlock runs again (airlock connect reconnects on its own).`,
        ),
      ),
    )
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    )
    if (process.platform !== 'win32') fs.rmSync(this.endpoint, { force: true })
    this.releaseLock()
    await this.audit?.close()
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => undefined)
    const challenge = newChallenge()
    socket.write(JSON.stringify({ airlock: 1, challenge }) + '\n')
    let done = false
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS)
    let buffered = 0
    const refuse = (error: string): void => {
      done = true
      clearTimeout(timer)
      socket.end(JSON.stringify({ ok: false, error }) + '\n')
    }
    const chunks: Buffer[] = []
    const onData = (chunk: Buffer): void => {
      if (done) return
      const nl = chunk.indexOf(10)
      buffered += chunk.length
      if (nl === -1) {
        chunks.push(chunk)
        if (buffered > HANDSHAKE_MAX_BYTES) refuse('handshake too large')
        return
      }
      chunks.push(chunk.subarray(0, nl))
      const rest = chunk.subarray(nl + 1)
      done = true
      clearTimeout(timer)
      socket.off('data', onData)
      socket.pause()
      let hello: Record<string, unknown>
      try {
        hello = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      } catch {
        return refuse('expected a JSON hello line')
      }
      if (!proofMatches(proof(this.secret, 'peer', challenge), hello.proof)) {
        this.log('refused a connection that did not prove the secret')
        return refuse('authentication failed')
      }
      if (
        typeof hello.challenge !== 'string' ||
        hello.challenge.length < 16 ||
        hello.challenge.length > 256
      )
        return refuse('expected a challenge')
      const welcome =
        JSON.stringify({ ok: true, proof: proof(this.secret, 'gateway', hello.challenge) }) + '\n'
      if (hello.role === 'control') {
        socket.write(welcome)
        const control = new ControlConnection(this, socket)
        if (rest.length) control.data(rest)
        socket.resume()
        return
      }
      const name = hello.server
      const server = typeof name === 'string' ? this.live.server(name) : undefined
      if (!server) {
        return refuse(noServerMessage(String(name), this.home))
      }
      if (!server.enabled)
        return refuse(`server "${server.name}" is disabled; enable it in Airlock first`)
      socket.write(welcome)
      this.startSession(server.name, socket, rest, clientCwd(hello.cwd))
    }
    socket.on('data', onData)
  }

  private startSession(name: string, socket: net.Socket, rest: Buffer, cwd?: string): void {
    const link: ClientLink = {
      write: (chunks) => {
        if (chunks.length === 1) return socket.write(chunks[0])
        socket.cork()
        let ok = true
        for (const c of chunks) ok = socket.write(c)
        socket.uncork()
        return ok
      },
      onDrain: (cb) => socket.on('drain', cb),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      end: () => socket.end(),
    }
    let session: Session
    try {
      session = this.openSession(name, link, undefined, cwd)
    } catch {
      socket.destroy() // Removed or disabled since the handshake checked it.
      return
    }
    socket.on('data', (chunk: Buffer) => session.clientData(chunk))
    socket.on('close', () => void session.clientClosed())
    if (rest.length) session.clientData(rest)
    socket.resume()
  }

  /** Tells the clients of `server`'s sessions that its tool list changed (e.g. a pin was accepted). */
  notifyToolsListChanged(server: string): void {
    for (const s of this.sessions) if (s.server === server) s.notifyToolsListChanged()
  }

  /**
   * Starts a session of server `name` for an agent reached through `link` (the shim's socket,
   * or an MCP HTTP session): its own server process, the policy, approvals and audit. The
   * caller feeds it with `clientData` and ends it with `clientClosed`. Throws
   * SessionRefusedError when no enabled server has that name. `httpInfo` marks an MCP HTTP
   * session and tells its idle time to status displays. `clientCwd` (the shim's working
   * directory) is where a server without a configured `cwd` starts, as it would directly.
   */
  openSession(
    name: string,
    link: ClientLink,
    httpInfo?: () => HttpLinkInfo,
    clientCwd?: string,
  ): Session {
    const server = this.live.server(name)
    if (!server) throw new SessionRefusedError(noServerMessage(name, this.home), 'NO_SERVER')
    if (!server.enabled)
      throw new SessionRefusedError(
        `server "${server.name}" is disabled; enable it in Airlock first`,
        'SERVER_DISABLED',
      )
    const session = new Session(
      {
        id: `${this.now().toString(36)}-${(++this.sessionSeq).toString(36)}-${randomBytes(3).toString('hex')}`,
        server,
        live: this.live,
        audit: {
          append: (i) => this.appendAudit(i),
          stage: (i) => this.audit.stage(i),
          commit: () => this.audit.commit(),
        },
        approvals: this.approvals,
        grants: this.grants,
        counters: this.counters,
        now: this.now,
        log: this.log,
        isPaused: () => this.pausedFlag,
        upstream: (s) => this.upstreamFor(s, clientCwd),
        defaultApprovalTimeoutMs: () => this.live.config.settings.approvalTimeoutSeconds * 1000,
        onClose: (s) => {
          this.sessions.delete(s)
          this.emit('sessions', this.sessionList())
        },
        onClientInfo: () => this.emit('sessions', this.sessionList()),
        onToolsList: (tools, first) => {
          this.tools.record(server.name, tools, first)
          if (
            this.live.config.settings.pinning !== 'off' &&
            this.pins.observe(server.name, tools, first)
          )
            this.emit('pins', server.name)
          this.emit('tools', server.name, tools)
        },
        toolClass: (tool) => this.tools.classOf(server.name, tool),
        pins: {
          mode: () => this.live.config.settings.pinning,
          check: (tool) => this.pins.check(server.name, tool),
          accept: (tool, hash) => {
            if (!this.pins.accept(server.name, tool, hash).length) return
            this.emit('pins', server.name)
            this.notifyToolsListChanged(server.name)
          },
        },
        listBeforeFirstCall: () => this.live.config.settings.pinning !== 'off',
        onServerGone: (message) => this.emit('server-error', server.name, message),
      },
      link,
    )
    if (httpInfo) this.httpInfo.set(session, httpInfo)
    this.sessions.add(session)
    session.start()
    this.emit('sessions', this.sessionList())
    return session
  }
}

/** The default agent endpoint: the per-user Unix socket, or a random named pipe on Windows. */
export function defaultEndpoint(home: string, pipeNameFile: string): string {
  if (process.platform !== 'win32') return socketPath(home)
  try {
    return fs.readFileSync(pipeNameFile, 'utf8').trim()
  } catch {
    const name = `\\\\.\\pipe\\airlock-${randomBytes(16).toString('hex')}`
    fs.writeFileSync(pipeNameFile, name, { mode: 0o600 })
    return name
  }
}

/** Creates the socket directory 0700 and refuses one that is a symlink or someone else's. */
function prepareSocketDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = fs.lstatSync(dir)
  const uid = process.getuid?.()
  if (!st.isDirectory() || st.isSymbolicLink() || (uid !== undefined && st.uid !== uid)) {
    throw new Error(`${dir} is not a directory owned by you; remove it and start Airlock again`)
  }
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700)
}

/** Whether a process with this pid exists (ours to signal). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Whether something answers on the endpoint. */
export function isAnswering(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(endpoint)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * The working directory a shim reports, when it is an existing absolute directory; anything
 * else is ignored (the server then starts where the gateway runs).
 */
function clientCwd(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 4096 || !path.isAbsolute(value)) return undefined
  try {
    return fs.statSync(value).isDirectory() ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * Names the data directory that was checked: a client that strips the environment (no
 * AIRLOCK_HOME) reaches the default one, which is not where the user configured the server.
 */
function noServerMessage(name: string, home: string): string {
  return `no server named ${JSON.stringify(name.slice(0, 64))} is configured in ${home} (see "AIRLOCK_HOME=${home} airlock servers list"); if you configured it in another data directory, set AIRLOCK_HOME to that directory in this client's entry for "airlock connect" (airlock clients wrap does it for you)`
}
