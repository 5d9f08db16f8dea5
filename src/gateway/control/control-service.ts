/**
 * The control API (src/shared/contract/control-api.ts) served against a running Gateway: one method per
 * request of the contract, params parsed with its zod schema on arrival, and the contract's
 * events. Transports (the headless WebSocket, Electron's utilityProcess bridge, the control
 * connection on the agent socket) only move JSON; everything they may do is here.
 *
 * Config and policy changes go through the config store (validated; an invalid config.json is
 * reported and never overwritten), then the gateway reloads at once, so the next call sees them.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import type { z } from 'zod'
import type { AuditQuery, AuditRecord } from '../../shared/contract/audit-record'
import {
  headerSecretKey,
  isRemote,
  isSecretHeaderName,
  serverConfigSchema,
  settingsSchema,
  type Config,
  type ServerConfig,
  type Settings,
} from '../../shared/contract/config'
import {
  controlRequests,
  isControlMethod,
  type AuditFilter,
  type CallRow,
  type ControlEvent,
  type ControlMethod,
  type EventOf,
  type PendingApprovalView,
  type ResultOf,
  type Risk,
  type ServerView,
  type ToolView,
} from '../../shared/contract/control-api'
import { CounterStore } from '../../shared/policy/counters'
import { dependsOnCall } from '../../shared/policy/conditional'
import { decide } from '../../shared/policy/engine'
import { describeDecision } from '../../shared/policy/eval-exit'
import { isHidden } from '../../shared/policy/hide'
import { validatePolicy } from '../../shared/policy/parse'
import { describeProtection, toolVerdict, type Protection } from '../../shared/protection'
import { classReason, classifyTool, proposePolicy } from '../../shared/risk'
import {
  RetryError,
  type ApprovalOutcome,
  type PendingApproval,
  type RetryState,
} from '../approvals/approvals'
import { exportAudit, replayAudit, type AuditTicket } from '../audit'
import {
  AuditIndex,
  type AuditIndexOptions,
  type IndexedCall,
  type IndexFilter,
} from '../audit/activity-index/index'
import { diskPage, type DiskResume } from '../audit/disk-page'
import {
  ClientsService,
  clientEnvFromHost,
  resolveShim,
  type ClientsServiceOptions,
} from '../../clients/service'
import { unifiedDiff } from '../../clients/formats/diff'
import { pastedServers } from '../../clients/paste'
import { ControlError } from '../../shared/contract/control-error'
import { PolicyHistory, isInside, policyTarget } from './policy-store'
import {
  ConfigError,
  loadServerPolicy,
  policyPath,
  readConfig,
  updateConfig,
} from '../../node/config-store'
import type { Gateway, SessionInfo } from '../gateway'
import type { ReloadResult } from '../config/live-config'
import { spawnServer } from '../proxy/server-process'
import { PinError } from '../proxy/tool-pins'
import { inspectRemoteTools } from '../proxy/remote-inspector'
import { SignInError } from '../proxy/oauth-sign-in'
import { OAUTH_KEYS } from '../proxy/oauth-client'
import {
  inspectTools,
  INSPECT_TIMEOUT_MS,
  toListedTool,
  type ListedTool,
} from '../proxy/tool-inspector'
import { writeFileAtomic } from '../../node/atomic-write'
import { timeExpected, toMs } from '../../shared/time'

export { ControlError }

/** Options of a control service. */
export interface ControlServiceOptions {
  log?: (msg: string) => void
  /**
   * The Clients screen's service: where client configs are (default: this process's home, or
   * `AIRLOCK_CLIENTS_HOME`), the shim command, the watch port and intervals (tests set these).
   */
  clients?: Partial<
    Pick<
      ClientsServiceOptions,
      'env' | 'shim' | 'watch' | 'intervalMs' | 'planTtlMs' | 'adapters' | 'fs' | 'now'
    >
  >
  /** Cap of a tool-discovery session (default 15 s). */
  inspectTimeoutMs?: number
  /** Largest export returned in one answer (default 64 MiB); larger ones are refused with advice. */
  maxExportBytes?: number
  /** Audit records read from the files per slice of an Activity page (default {@link DISK_SLICE_RECORDS}). */
  diskSliceRecords?: number
  /** The Activity index's bounds (default: its own). */
  index?: AuditIndexOptions
}

/**
 * Audit records an Activity page reads from the files before it lets the event loop run (about
 * 10–20 ms of parsing here); a page that needs more goes on in the next turn.
 */
export const DISK_SLICE_RECORDS = 8192

/** Who is calling (recorded as the approver of decisions). */
export interface CallContext {
  by?: string
}

type Parsed<M extends ControlMethod> = z.output<(typeof controlRequests)[M]['params']>
type Handlers = {
  [M in ControlMethod]: (params: Parsed<M>, ctx: CallContext) => ResultOf<M> | Promise<ResultOf<M>>
}

const MASK = '********'
const RECENT_CALLS_MAX = 10_000

/** Whether a value is the mask the UI shows for a stored secret (sending it back means "unchanged"). */
export function isMasked(value: string): boolean {
  return /^\*{3,}$/.test(value)
}

/** The control API over a gateway. Call `start()` after `gateway.listen()`, `close()` before closing it. */
export class ControlService {
  /** The Activity index (loaded in the background by `start`). */
  readonly index: AuditIndex
  private readonly events = new EventEmitter()
  private readonly log: (msg: string) => void
  private readonly inspectTimeoutMs: number
  private readonly maxExportBytes: number
  private readonly diskSliceRecords: number
  /** Tools per server, from live sessions' tools/list answers and from discovery. */
  private readonly catalog = new Map<string, Map<string, ListedTool>>()
  private readonly lastErrors = new Map<string, string>()
  private readonly riskCache = new Map<string, Risk>()
  private readonly discovering = new Map<string, Promise<ListedTool[]>>()
  /** Rows of forwarded calls awaiting their outcome, to announce the joined row. */
  private readonly recentCalls = new Map<string, CallRow>()
  private readonly detach: (() => void)[] = []
  private readonly handlers: Handlers
  /** The MCP clients on this machine and their protection (the Clients screen). */
  readonly clients: ClientsService

  constructor(
    private readonly gw: Gateway,
    opts: ControlServiceOptions = {},
  ) {
    this.log = opts.log ?? (() => {})
    this.inspectTimeoutMs = opts.inspectTimeoutMs ?? INSPECT_TIMEOUT_MS
    this.maxExportBytes = opts.maxExportBytes ?? 64 * 1024 * 1024
    this.diskSliceRecords = opts.diskSliceRecords ?? DISK_SLICE_RECORDS
    this.index = new AuditIndex(gw.paths.audit, this.log, opts.index)
    this.clients = new ClientsService({
      home: gw.home,
      configFile: gw.paths.config,
      secrets: gw.secrets,
      env: opts.clients?.env ?? clientEnvFromHost(),
      shim: opts.clients?.shim ?? (() => resolveShim({ home: gw.home })),
      config: () => gw.live.config,
      onConfigWritten: () => gw.reloadConfig(),
      onChange: (status) => this.emit('clients.changed', status),
      log: this.log,
      ...dropUndefined({ ...opts.clients, env: undefined, shim: undefined }),
    })
    this.events.setMaxListeners(0)
    this.handlers = this.makeHandlers()
  }

  /** Subscribes to the gateway and starts loading the audit index. Needs a listening gateway. */
  start(): void {
    const gw = this.gw
    const on = <A extends unknown[]>(
      emitter: EventEmitter,
      event: string,
      fn: (...args: A) => void,
    ): void => {
      const listener = fn as (...args: unknown[]) => void
      emitter.on(event, listener)
      this.detach.push(() => emitter.off(event, listener))
    }
    on(gw, 'audit', (rec: AuditRecord, written: AuditTicket) => this.onAudit(rec, written))
    on(gw, 'sessions', (list: SessionInfo[]) => this.emit('sessions.changed', list))
    on(gw, 'paused', (paused: boolean) => this.emit('paused', { paused }))
    on(gw, 'config', (_r: ReloadResult) => this.emit('servers.changed', {}))
    on(gw, 'tools', (server: string, tools: unknown[]) => {
      const before = this.catalog.get(server)?.size
      this.recordTools(server, tools, false)
      // The Servers screen shows the tool count.
      if (this.catalog.get(server)?.size !== before) this.emit('servers.changed', {})
    })
    on(gw, 'pins', (server: string) => this.emit('pins.changed', { server }))
    on(gw.oauth, 'changed', () => this.emit('servers.changed', {}))
    on(gw, 'server-state', (server: string) => {
      // A process of it runs again: an old error no longer describes it.
      if (gw.serverHealth(server).pids.length > 0) this.lastErrors.delete(server)
      this.emit('servers.changed', {})
    })
    on(gw, 'server-error', (server: string, message: string) => {
      this.lastErrors.set(server, message)
      this.emit('servers.changed', {})
    })
    on(gw.approvals, 'requested', (req: PendingApproval) =>
      this.emit('approval.requested', this.approvalView(req)),
    )
    on(gw, 'grants', () => this.emit('grants.changed', {}))
    on(gw.approvals, 'retry', (r: { callId: string; state: RetryState | undefined }) =>
      this.emit(
        'call.updated',
        r.state ? { callId: r.callId, retry: r.state } : { callId: r.callId },
      ),
    )
    on(gw.approvals, 'resolved', (res: { id: string; outcome: ApprovalOutcome }) =>
      this.emit('approval.resolved', {
        id: res.id,
        outcome: { answer: res.outcome.answer, by: res.outcome.by },
      }),
    )
    void this.index.load()
    this.clients.start()
  }

  /** Stops listening to the gateway. */
  close(): void {
    this.clients.close()
    for (const d of this.detach.splice(0)) d()
    this.events.removeAllListeners()
  }

  /** Subscribes to one event; returns the unsubscribe. */
  on<E extends ControlEvent>(event: E, listener: (data: EventOf<E>) => void): () => void {
    const l = listener as (data: unknown) => void
    this.events.on(event, l)
    return () => this.events.off(event, l)
  }

  /** Subscribes to every event; returns the unsubscribe. */
  subscribe(listener: (event: ControlEvent, data: unknown) => void): () => void {
    const l = (event: ControlEvent, data: unknown): void => listener(event, data)
    this.events.on('*', l)
    return () => this.events.off('*', l)
  }

  /**
   * Runs one control request. Refuses unknown methods and params that do not match the
   * method's schema (the message names the field); resolves with the method's result.
   */
  async call(method: string, params: unknown, ctx: CallContext = {}): Promise<unknown> {
    if (!isControlMethod(method)) {
      throw new ControlError(
        `unknown control method "${String(method).slice(0, 64)}"; see src/shared/contract/control-api.ts for the list`,
        'UNKNOWN_METHOD',
      )
    }
    const parsed = controlRequests[method].params.safeParse(params ?? {})
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (i) => `${i.path.length ? i.path.join('.') : '(params)'}: ${i.message}`,
      )
      throw new ControlError(`${method}: invalid params: ${issues.join('; ')}`, 'INVALID_PARAMS')
    }
    const handler = this.handlers[method] as (p: unknown, c: CallContext) => unknown
    return handler(parsed.data, ctx)
  }

  private emit<E extends ControlEvent>(event: E, data: EventOf<E>): void {
    this.events.emit(event, data)
    this.events.emit('*', event, data)
  }

  private makeHandlers(): Handlers {
    const gw = this.gw
    return {
      'status.get': () => ({
        pid: process.pid,
        home: gw.home,
        paused: gw.paused,
        sessions: gw.sessionList(),
        pending: gw.approvals.list().length,
        errors: gw.live.errors(),
        ...(gw.secrets.where ? { secretStore: gw.secrets.where } : {}),
        signIn: gw.signInsNeeded(),
      }),
      'servers.list': () => gw.live.config.servers.map((s) => this.serverView(s)),
      'servers.add': (p) => this.saveServer(undefined, p.server, p.secretValues ?? {}),
      'servers.update': (p) => this.saveServer(p.name, p.server, p.secretValues ?? {}),
      'servers.remove': (p) => this.removeServer(p.name),
      'servers.setEnabled': (p) => {
        this.changeConfig(
          (c) => ({
            ...c,
            servers: c.servers.map((s) => (s.name === p.name ? { ...s, enabled: p.enabled } : s)),
          }),
          p.name,
        )
        return this.serverView(this.requireServer(p.name))
      },
      'servers.restart': (p) => this.restartServer(p.name),
      'servers.login': (p) => this.signIn(p.name, p.open === true),
      'servers.logout': (p) => {
        this.requireServer(p.name)
        gw.oauth.signOut(p.name)
        return true
      },
      'servers.paste': (p) => this.pasteServers(p.text, p.apply),
      'tools.list': (p) => this.toolsList(p.server, p.discover === true),
      'pins.list': (p) => {
        this.requireServer(p.server)
        return gw.pins.view(p.server)
      },
      'pins.summary': () => gw.pins.summary(gw.live.config.servers.map((s) => s.name)),
      'pins.accept': (p) => {
        this.requireServer(p.server)
        let accepted: string[]
        try {
          accepted = gw.pins.accept(p.server, p.tool)
        } catch (err) {
          if (err instanceof PinError) throw new ControlError(err.message, 'NOT_FOUND')
          throw err
        }
        if (accepted.length) {
          this.emit('pins.changed', { server: p.server })
          // Clients list the accepted definitions from now on.
          gw.notifyToolsListChanged(p.server)
        }
        return { accepted }
      },
      'policy.get': (p) => this.policyGet(p.server),
      'policy.set': (p) => this.policySet(p.server, p.text),
      'policy.history': (p) => {
        this.requireServer(p.server)
        return this.policyHistory.list(p.server)
      },
      'policy.version': (p) => this.policyVersion(p.server, p.id),
      'policy.try': (p) => this.policyTry(p),
      'policy.validate': (p) => {
        const v = validatePolicy(p.text, 'policy')
        return v.ok ? { ok: true, errors: [] } : { ok: false, errors: v.errors }
      },
      'policy.replay': (p) => this.policyReplay(p.server, p.text, p.since),
      'approvals.list': () => gw.approvals.list().map((r) => this.approvalView(r)),
      'approvals.decide': (p, ctx) =>
        gw.approvals.decide(p.id, p.answer, (ctx.by ?? 'ui').slice(0, 64), p.message),
      'approvals.allowRetry': (p, ctx) => {
        try {
          return gw.approvals.allowRetry(p.callId, (ctx.by ?? 'ui').slice(0, 64))
        } catch (err) {
          if (err instanceof RetryError)
            throw new ControlError(
              `cannot allow the retry of call ${p.callId.slice(0, 80)}: ${err.message}`,
              err.code === 'UNKNOWN' ? 'NOT_FOUND' : 'CONFLICT',
            )
          throw err
        }
      },
      'grants.list': () => gw.grants.list(),
      'grants.revoke': (p) => gw.grants.revoke(p.id),
      'audit.query': (p) => this.auditQuery(p.filter, p.limit, p.beforeSeq),
      'audit.export': (p) => this.auditExport(p.filter, p.format),
      'audit.call': (p) => this.auditCall(p.callId),
      'audit.names': async () => {
        await this.index.load()
        return this.index.names()
      },
      'audit.histogram': async (p) => {
        if (!(p.until > p.since))
          throw new ControlError(
            `audit.histogram: until (${p.until}) must be after since (${p.since})`,
            'INVALID_PARAMS',
          )
        await this.index.load()
        const f = p.filter ? toIndexFilter({ ...p.filter, since: undefined, until: undefined }) : {}
        return this.index.histogram(p.since, p.until, p.buckets, f)
      },
      'settings.get': () => gw.live.config.settings,
      'settings.set': (p) => this.settingsSet(p.settings),
      'clients.list': () => this.clients.list(),
      'clients.status': () => this.clients.status(),
      'clients.plan': (p) => this.clients.plan(p.client, p.action, p.server),
      'clients.apply': (p) => this.clients.apply(p.planId),
      // Start at login belongs to the desktop app, whose main process answers these itself.
      'app.getStartAtLogin': () => ({ supported: false, enabled: false }),
      'app.setStartAtLogin': () => {
        throw new ControlError(
          'start at login is a desktop-app setting; run the Airlock app (npm start)',
          'UNSUPPORTED',
        )
      },
      'pause.set': (p) => {
        gw.setPaused(p.paused)
        try {
          if (readConfig(gw.paths.config).settings.paused !== p.paused) {
            updateConfig(gw.paths.config, (c) => ({
              ...c,
              settings: { ...c.settings, paused: p.paused },
            }))
          }
        } catch (err) {
          this.log(
            `pause is in force, but could not be saved to config.json: ${(err as Error).message}`,
          )
        }
        return gw.paused
      },
    }
  }

  // ── servers ──────────────────────────────────────────────────────────────

  private requireServer(name: string): ServerConfig {
    const s = this.gw.live.server(name)
    if (!s)
      throw new ControlError(
        `no server named "${name}" is configured; list them with servers.list`,
        'NOT_FOUND',
      )
    return s
  }

  /** Read-modify-write of config.json, then an immediate reload. Config errors become ControlErrors. */
  private changeConfig(change: (c: Config) => Config, mustExist?: string): Config {
    let next: Config
    try {
      next = updateConfig(this.gw.paths.config, (c) => {
        if (mustExist !== undefined && !c.servers.some((s) => s.name === mustExist)) {
          throw new ControlError(
            `no server named "${mustExist}" is configured; list them with servers.list`,
            'NOT_FOUND',
          )
        }
        return change(c)
      })
    } catch (err) {
      if (err instanceof ControlError) throw err
      if (err instanceof ConfigError)
        throw new ControlError(
          `${err.message}\nconfig.json was not changed; fix the file first`,
          'INVALID',
          { cause: err },
        )
      throw err
    }
    this.gw.reloadConfig()
    return next
  }

  private serverView(s: ServerConfig): ServerView {
    const env = { ...s.env }
    for (const key of s.secretEnv) {
      let stored = key in env
      if (!stored) {
        try {
          stored = this.gw.secrets.get(s.name, key) !== undefined
        } catch {
          stored = false
        }
      }
      if (stored) env[key] = MASK
    }
    const sessions = this.gw.sessionList().filter((x) => x.server === s.name)
    const health = this.gw.serverHealth(s.name)
    const lastError = this.lastErrors.get(s.name)
    const failed = (health.lastExit !== undefined && !health.lastExit.expected) || !!lastError
    const view: ServerView = {
      config: { ...s, env, ...maskedHeaders(s) },
      sessions: sessions.length,
      protection: this.protectionOf(s),
      status: !s.enabled
        ? 'disabled'
        : health.pids.length > 0 || (s.url !== undefined && sessions.length > 0)
          ? 'running'
          : failed
            ? 'failing'
            : 'idle',
      pids: health.pids,
      sessionClients: [...new Set(sessions.map((x) => x.client))].sort(),
    }
    if (s.url === undefined) view.transport = 'stdio'
    else {
      const t = this.gw.remoteTransports.get(s.name)
      if (t) view.transport = t
      const oauth = this.gw.oauth.state(s.name)
      view.auth = oauth ? 'oauth' : (s.secretHeaders ?? []).length > 0 ? 'headers' : 'none'
      if (oauth) view.signIn = oauth.state
      if (oauth?.url !== undefined) view.signInUrl = oauth.url
    }
    if (health.lastStartAt !== undefined) view.lastStartAt = health.lastStartAt
    if (health.lastExit !== undefined) view.lastExit = health.lastExit
    if (health.stderr !== '') view.stderrTail = lastLines(health.stderr, 20)
    const toolCount = this.catalog.get(s.name)?.size ?? this.gw.tools.tools(s.name).length
    if (toolCount > 0 || this.catalog.has(s.name)) view.toolCount = toolCount
    if (lastError !== undefined) view.lastError = lastError
    const prefix = `${s.name}: `
    const policyError = this.gw.live.errors().find((e) => e.startsWith(prefix))
    if (policyError !== undefined) view.policyError = policyError.slice(prefix.length)
    return view
  }

  /**
   * Adds (`oldName` undefined) or replaces a server. Secret env values — `secretValues`, or values
   * of `secretEnv` keys typed into `env` — go to the secret store, never to config.json; a masked
   * value means "keep the stored one". An omitted `policy` keeps the server's current policy.
   */
  private saveServer(
    oldName: string | undefined,
    input: ServerConfig,
    secretValues: Record<string, string>,
  ): ServerView {
    const current = this.gw.live.config
    const existing =
      oldName === undefined ? undefined : current.servers.find((s) => s.name === oldName)
    if (oldName !== undefined && !existing)
      throw new ControlError(
        `no server named "${oldName}" is configured; list them with servers.list`,
        'NOT_FOUND',
      )
    // Secret env keys, and secret headers under their store keys ("header:<Name>").
    const headerKeys = new Set(
      Object.keys(secretValues)
        .filter((k) => k.startsWith('header:'))
        .map((k) => k.slice('header:'.length)),
    )
    const secretEnvKeys = [
      ...new Set([
        ...input.secretEnv,
        ...Object.keys(secretValues).filter((k) => !k.startsWith('header:')),
      ]),
    ]
    const inputHeaders = input.headers ?? {}
    const secretHeaderNames = [
      ...new Set([
        ...(input.secretHeaders ?? []),
        ...Object.keys(inputHeaders).filter((h) => isSecretHeaderName(h)),
        ...headerKeys,
      ]),
    ]
    const secretKeys = [...secretEnvKeys, ...secretHeaderNames.map(headerSecretKey)]
    const given: Record<string, string> = {}
    for (const key of secretEnvKeys) {
      const typed = input.env[key]
      if (typed !== undefined && !isMasked(typed)) given[key] = typed
    }
    for (const name of secretHeaderNames) {
      const typed = inputHeaders[name]
      if (typed !== undefined && !isMasked(typed)) given[headerSecretKey(name)] = typed
    }
    for (const key of secretKeys) {
      const v = secretValues[key]
      if (v !== undefined && !isMasked(v)) given[key] = v
    }
    const env = Object.fromEntries(
      Object.entries(input.env).filter(([k]) => !secretEnvKeys.includes(k)),
    )
    const headers = Object.fromEntries(
      Object.entries(inputHeaders).filter(([k]) => !secretHeaderNames.includes(k)),
    )
    const server = serverConfigSchema.parse({
      ...input,
      env,
      secretEnv: secretEnvKeys,
      ...(input.url !== undefined || input.headers !== undefined
        ? {
            headers: Object.keys(headers).length ? headers : undefined,
            secretHeaders: secretHeaderNames.length ? secretHeaderNames : undefined,
          }
        : {}),
      ...(input.policy === undefined && existing?.policy !== undefined
        ? { policy: existing.policy }
        : {}),
    })
    if (typeof server.policy === 'string' && server.policy !== existing?.policy) {
      try {
        loadServerPolicy(this.gw.home, server, current)
      } catch (err) {
        throw new ControlError(`server "${server.name}": ${(err as Error).message}`, 'INVALID', {
          cause: err,
        })
      }
    }
    // The secrets after this change: new values, else the stored ones (a rename carries them), else
    // a plain value an older config kept in env (moved to the store now).
    const secrets: Record<string, string> = {}
    for (const key of secretKeys) {
      const v = given[key] ?? (existing ? this.secretOf(existing, key) : undefined)
      if (v !== undefined) secrets[key] = v
    }
    // A remote server's OAuth sign-in stays with it over an edit or a rename, not a new URL.
    const signIn =
      existing?.url !== undefined && existing.url === server.url
        ? this.oauthSecretsOf(existing)
        : {}
    const previous = existing
      ? { ...this.secretsOf(existing), ...this.oauthSecretsOf(existing) }
      : {}
    this.writeSecrets(server.name, { ...secrets, ...signIn }, existing?.name)
    try {
      this.changeConfig((c) => {
        if (c.servers.some((s) => s.name === server.name && s.name !== oldName)) {
          throw new ControlError(
            `a server named "${server.name}" already exists; pick another name or edit that one`,
            'CONFLICT',
          )
        }
        if (oldName === undefined) return { ...c, servers: [...c.servers, server] }
        if (!c.servers.some((s) => s.name === oldName))
          throw new ControlError(
            `no server named "${oldName}" is configured; list them with servers.list`,
            'NOT_FOUND',
          )
        return { ...c, servers: c.servers.map((s) => (s.name === oldName ? server : s)) }
      })
    } catch (err) {
      try {
        if (existing) this.writeSecrets(existing.name, previous, server.name)
        else this.gw.secrets.delete(server.name)
      } catch (restoreErr) {
        this.log(
          `could not restore the secrets of "${server.name}": ${(restoreErr as Error).message}`,
        )
      }
      throw err
    }
    if (oldName !== undefined && oldName !== server.name) {
      this.catalog.delete(oldName)
      this.gw.tools.forget(oldName)
      // The pins go with the server: a rename must not re-pin whatever it lists next.
      this.gw.pins.rename(oldName, server.name)
      this.lastErrors.delete(oldName)
    }
    return this.serverView(this.requireServer(server.name))
  }

  private secretOf(s: ServerConfig, key: string): string | undefined {
    const stored = this.gw.secrets.get(s.name, key)
    if (stored !== undefined) return stored
    const plain = key.startsWith('header:') ? undefined : s.env[key]
    return plain !== undefined && !isMasked(plain) ? plain : undefined
  }

  private secretsOf(s: ServerConfig): Record<string, string> {
    const out: Record<string, string> = {}
    for (const key of [...s.secretEnv, ...(s.secretHeaders ?? []).map(headerSecretKey)]) {
      const v = this.secretOf(s, key)
      if (v !== undefined) out[key] = v
    }
    return out
  }

  private oauthSecretsOf(s: ServerConfig): Record<string, string> {
    const out: Record<string, string> = {}
    for (const key of Object.values(OAUTH_KEYS)) {
      const v = this.gw.secrets.get(s.name, key)
      if (v !== undefined) out[key] = v
    }
    return out
  }

  /** Makes the stored secrets of `name` exactly `values` (and drops those of `oldName` on a rename). */
  private writeSecrets(name: string, values: Record<string, string>, oldName?: string): void {
    const store = this.gw.secrets
    store.delete(name)
    for (const [k, v] of Object.entries(values)) store.set(name, k, v)
    if (oldName !== undefined && oldName !== name) store.delete(oldName)
  }

  private removeServer(name: string): boolean {
    if (!this.gw.live.config.servers.some((s) => s.name === name)) {
      // The live config may lag a hand edit: ask the file too.
      let onDisk = false
      try {
        onDisk = readConfig(this.gw.paths.config).servers.some((s) => s.name === name)
      } catch {
        onDisk = false
      }
      if (!onDisk) return false
    }
    this.changeConfig((c) => ({ ...c, servers: c.servers.filter((s) => s.name !== name) }))
    try {
      this.gw.secrets.delete(name)
    } catch (err) {
      this.log(`could not delete the secrets of "${name}": ${(err as Error).message}`)
    }
    this.catalog.delete(name)
    this.gw.tools.forget(name)
    this.gw.pins.forget(name)
    this.lastErrors.delete(name)
    return true
  }

  /** Servers from a pasted mcpServers block: a preview, or (apply, nothing wrong) added. */
  private pasteServers(text: string, apply: boolean): ResultOf<'servers.paste'> {
    const found = pastedServers(text, this.gw.live.config.servers)
    const added: string[] = []
    if (apply && found.errors.length === 0) {
      for (const s of found.servers) {
        if (s.reuse) continue
        this.saveServer(undefined, s.server, {})
        added.push(s.server.name)
      }
    }
    return {
      servers: found.servers.map((s) => ({
        name: s.server.name,
        command: s.server.command ?? '',
        args: s.server.args,
        envKeys: Object.keys(s.server.env),
        reuse: s.reuse,
        warnings: s.warnings,
      })),
      errors: found.errors,
      added,
    }
  }

  /** Starts a sign-in to remote server `name` (OAuth). */
  private async signIn(name: string, open: boolean): Promise<ResultOf<'servers.login'>> {
    const server = this.requireServer(name)
    if (server.url === undefined)
      throw new ControlError(
        `server "${name}" is started by Airlock (a command), not remote: there is nothing to sign in to`,
        'INVALID',
      )
    try {
      return await this.gw.oauth.signIn(name, { open })
    } catch (err) {
      if (err instanceof SignInError)
        throw new ControlError(err.message, err.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'INVALID', {
          cause: err,
        })
      throw err
    }
  }

  /** Restarts a server's processes, or with none running, checks that it starts. */
  private async restartServer(name: string): Promise<ResultOf<'servers.restart'>> {
    const server = this.requireServer(name)
    if (!server.enabled)
      throw new ControlError(`server "${name}" is disabled; enable it first`, 'INVALID')
    const restarted = await this.gw.restartServer(name)
    if (restarted > 0) {
      return {
        restarted,
        message: `Restarted ${restarted} ${restarted === 1 ? 'process' : 'processes'} of "${name}".`,
        server: this.serverView(this.requireServer(name)),
      }
    }
    // Nothing runs: start it once to check it (its tools are listed and kept).
    const tools = await this.discover(server)
    this.emit('servers.changed', {})
    return {
      restarted: 0,
      message: `No client is connected to "${name}", so nothing was running. It started, listed ${tools.length} tools and stopped; it starts when a client connects.`,
      server: this.serverView(this.requireServer(name)),
    }
  }

  // ── tools ────────────────────────────────────────────────────────────────

  private recordTools(server: string, tools: unknown[], replace: boolean): void {
    const known = replace
      ? new Map<string, ListedTool>()
      : (this.catalog.get(server) ?? new Map<string, ListedTool>())
    for (const t of tools) {
      const tool = toListedTool(t)
      if (tool) known.set(tool.name, tool)
    }
    this.catalog.set(server, known)
    for (const k of [...this.riskCache.keys()])
      if (k.startsWith(`${server}\0`)) this.riskCache.delete(k)
  }

  /** Starts a short inspection session (one at a time per server) and records what it lists. */
  private discover(server: ServerConfig): Promise<ListedTool[]> {
    const running = this.discovering.get(server.name)
    if (running) return running
    const listing = isRemote(server)
      ? inspectRemoteTools(
          server,
          this.gw.remoteHeaders(server),
          this.inspectTimeoutMs,
          this.gw.remoteAuth(server.name, this.gw.remoteHeaders(server)),
          (t) => this.gw.noteRemoteTransport(server.name, t),
        )
      : inspectTools(server, (s) => this.spawnForInspection(s), this.inspectTimeoutMs)
    const p = listing
      .then(
        (tools) => {
          this.recordTools(server.name, tools, true)
          this.lastErrors.delete(server.name)
          return tools
        },
        (err: unknown) => {
          this.lastErrors.set(server.name, (err as Error).message)
          throw new ControlError(`tool discovery failed: ${(err as Error).message}`, 'INVALID', {
            cause: err,
          })
        },
      )
      .finally(() => this.discovering.delete(server.name))
    this.discovering.set(server.name, p)
    return p
  }

  private spawnForInspection(s: ServerConfig): ChildProcessWithoutNullStreams {
    return spawnServer(this.gw.withSecrets(s))
  }

  private async toolsList(name: string, discover: boolean): Promise<ToolView[]> {
    const server = this.requireServer(name)
    let known = this.catalog.get(name)
    if (discover || !known || known.size === 0) {
      await this.discover(server)
      known = this.catalog.get(name)
    }
    return [...(known?.values() ?? [])].map((t) => this.toolView(name, t))
  }

  private toolView(server: string, t: ListedTool): ToolView {
    const cls = classifyTool(t)
    const floor: { why?: string } = {}
    const view: ToolView = {
      name: t.name,
      category: cls.category,
      risk: cls.risk,
      action: this.actionFor(server, t.name, floor),
    }
    if (floor.why !== undefined) view.floor = floor.why
    const live = this.gw.live.policyFor(server)
    if (!('error' in live) && view.action !== 'hide' && dependsOnCall(live.policy, t.name))
      view.conditional = true
    if (t.title !== undefined) view.title = t.title
    if (t.description !== undefined) view.description = t.description
    if (t.annotations !== undefined) view.annotations = t.annotations
    return view
  }

  /** What the policy does with a call of `tool` with no arguments (counters empty). */
  private actionFor(server: string, tool: string, floor?: { why?: string }): ToolView['action'] {
    const live = this.gw.live.policyFor(server)
    if ('error' in live) return 'deny' // the session denies every call of a server whose policy never loaded
    if (isHidden(live.policy, tool)) return 'hide'
    const known = this.catalog.get(server)?.get(tool)
    // The risk floor asked, not the policy: say so, so that "asks" is not read as the policy's.
    const v = toolVerdict(
      live.policy,
      tool,
      known ? classifyTool(known) : undefined,
      this.gw.live.config.settings.riskFloor,
      Date.now(),
    )
    if (v.floor !== undefined && floor) floor.why = v.floor
    return v.action
  }

  /** How protected a server is, in the words `airlock policy show` uses (src/shared/protection.ts). */
  private protectionOf(s: ServerConfig): Protection {
    const live = this.gw.live.policyFor(s.name)
    const riskFloor = this.gw.live.config.settings.riskFloor
    if ('error' in live)
      return describeProtection({
        ownPolicy: true,
        posture: 'deny',
        riskFloor,
        tools: [],
        broken: true,
      })
    const now = Date.now()
    const tools = [...(this.catalog.get(s.name)?.values() ?? [])].map((t) =>
      isHidden(live.policy, t.name)
        ? { name: t.name, action: 'hide' as const }
        : toolVerdict(live.policy, t.name, classifyTool(t), riskFloor, now),
    )
    return describeProtection({
      ownPolicy: s.policy !== undefined,
      posture: live.policy.default,
      riskFloor,
      tools,
    })
  }

  /** A tool's risk class: from its listed annotations when known, else from its name. */
  riskOf(server: string, tool: string): Risk {
    const key = `${server}\0${tool}`
    let risk = this.riskCache.get(key)
    if (risk === undefined) {
      risk = classifyTool(this.catalog.get(server)?.get(tool) ?? { name: tool }).risk
      if (this.riskCache.size > 50_000) this.riskCache.clear()
      this.riskCache.set(key, risk)
    }
    return risk
  }

  private approvalView(req: PendingApproval): PendingApprovalView {
    return { ...req, risk: req.risk ?? this.riskOf(req.server, req.tool) }
  }

  // ── policies ─────────────────────────────────────────────────────────────

  private historyOf?: PolicyHistory
  /** The saved versions of every server's policy (`<home>/policies/.history`). */
  private get policyHistory(): PolicyHistory {
    return (this.historyOf ??= new PolicyHistory(path.join(this.gw.paths.policies, '.history')))
  }

  private async policyGet(name: string): Promise<ResultOf<'policy.get'>> {
    const server = this.requireServer(name)
    if (typeof server.policy === 'string') {
      const file = policyPath(this.gw.home, server) as string
      const copiedOnSave = policyTarget(this.gw.home, name, file) !== file
      try {
        return { text: fs.readFileSync(file, 'utf8'), path: file, proposed: false, copiedOnSave }
      } catch (err) {
        throw new ControlError(
          `${file}: cannot read the policy of "${name}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); restore the file or save a new policy`,
          'NOT_FOUND',
          { cause: err },
        )
      }
    }
    if (typeof server.policy === 'object') {
      return {
        text: JSON.stringify(server.policy, null, 2) + '\n',
        proposed: false,
        copiedOnSave: true,
      }
    }
    let tools = [...(this.catalog.get(name)?.values() ?? [])]
    if (tools.length === 0 && server.enabled) {
      try {
        tools = await this.discover(server)
      } catch (err) {
        this.log(`proposing a policy for "${name}" without its tools: ${(err as Error).message}`)
      }
    }
    return {
      text: proposePolicy(tools, this.gw.live.config.settings.defaultPosture),
      proposed: true,
    }
  }

  /**
   * Validates and saves a server's policy, always inside the data directory: into the file it
   * uses when that is a policy file there, else into `<home>/policies/<server>.yaml` (0600),
   * which the config then points to — a file elsewhere is never written. The text before the
   * first save and every saved text are kept as versions (policy.history). Nothing is written
   * when the text is invalid. The gateway reloads at once.
   */
  /** The recorded calls of `name` decided again by the draft `text` (see shared/policy/replay). */
  private policyReplay(
    name: string,
    text: string,
    since: string | number | undefined,
  ): ResultOf<'policy.replay'> {
    this.requireServer(name)
    const v = validatePolicy(text, 'policy')
    if (!v.ok) return { ok: false, errors: v.errors }
    let sinceMs: number | undefined
    if (since !== undefined) {
      sinceMs = typeof since === 'number' ? since : Date.parse(since)
      if (!Number.isFinite(sinceMs))
        throw new ControlError(
          `since "${String(since)}": expected epoch milliseconds or an ISO time`,
          'INVALID_PARAMS',
        )
    }
    const report = replayAudit(
      this.gw.paths.audit,
      v.policy,
      { server: name, sinceMs },
      {
        riskFloor: this.gw.live.config.settings.riskFloor,
        toolClass: (s, t) => this.gw.tools.classOf(s, t),
      },
    )
    return { ok: true, report }
  }

  private policySet(name: string, text: string): ResultOf<'policy.set'> {
    const server = this.requireServer(name)
    const current =
      typeof server.policy === 'string' ? (policyPath(this.gw.home, server) as string) : undefined
    const target = policyTarget(this.gw.home, name, current)
    const v = validatePolicy(text, target)
    if (!v.ok) return { ok: false, errors: v.errors }
    // What was in force before, kept once so that the first save can be undone too.
    if (this.policyHistory.list(name).length === 0) {
      const before = this.currentPolicyText(server, current)
      if (before !== undefined) this.policyHistory.record(name, before)
    }
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 })
    writeFileAtomic(target, text)
    try {
      this.policyHistory.record(name, text)
    } catch (err) {
      this.log(`policy of "${name}" saved, but not kept in its history: ${(err as Error).message}`)
    }
    if (target !== current) {
      const rel = isInside(this.gw.home, target) ? path.relative(this.gw.home, target) : target
      this.changeConfig(
        (c) => ({
          ...c,
          servers: c.servers.map((s) => (s.name === name ? { ...s, policy: rel } : s)),
        }),
        name,
      )
    } else {
      this.gw.reloadConfig()
    }
    return { ok: true, errors: [] }
  }

  /** The text of the policy a server uses now (its file, or its inline object), if any. */
  private currentPolicyText(server: ServerConfig, file: string | undefined): string | undefined {
    if (typeof server.policy === 'object') return JSON.stringify(server.policy, null, 2) + '\n'
    if (file === undefined) return undefined
    try {
      return fs.readFileSync(file, 'utf8')
    } catch {
      return undefined
    }
  }

  private policyVersion(name: string, id: string): ResultOf<'policy.version'> {
    const server = this.requireServer(name)
    let text: string
    try {
      text = this.policyHistory.read(name, id)
    } catch (err) {
      throw new ControlError((err as Error).message, 'NOT_FOUND', { cause: err })
    }
    const now =
      this.currentPolicyText(
        server,
        typeof server.policy === 'string' ? policyPath(this.gw.home, server) : undefined,
      ) ?? ''
    return { text, diff: unifiedDiff(text, now, `saved ${id}`, 'saved now') }
  }

  /** The engine's decision for one call, against `p.text` or the saved policy; nothing is recorded. */
  private policyTry(p: Parsed<'policy.try'>): ResultOf<'policy.try'> {
    this.requireServer(p.server)
    let policy
    if (p.text !== undefined) {
      const v = validatePolicy(p.text, 'policy')
      if (!v.ok)
        throw new ControlError(
          `the policy text is not valid, so it cannot decide: ${v.errors[0]?.message ?? 'invalid'}`,
          'INVALID',
        )
      policy = v.policy
    } else {
      const live = this.gw.live.policyFor(p.server)
      if ('error' in live)
        return {
          kind: 'deny',
          reason: live.error,
          summary: `deny: the policy could not be loaded, so every call is denied: ${live.error}`,
        }
      policy = live.policy
    }
    const known = this.catalog.get(p.server)?.get(p.tool)
    const d = decide(
      policy,
      {
        tool: p.tool,
        args: p.args,
        sessionId: 'airlock-try',
        ...(known ? { risk: classifyTool(known) } : {}),
        ...(p.client !== undefined ? { client: { name: p.client } } : {}),
      },
      new CounterStore(),
      Date.now(),
      {
        defaultApprovalTimeoutMs: this.gw.live.config.settings.approvalTimeoutSeconds * 1000,
        riskFloor: this.gw.live.config.settings.riskFloor,
      },
    )
    const out: ResultOf<'policy.try'> = { kind: d.kind, summary: describeDecision(d) }
    if ('rule' in d && d.rule !== undefined) out.rule = d.rule
    if ('reason' in d && d.reason !== undefined) out.reason = d.reason
    if (d.kind === 'needs_approval' && d.floor) out.floor = classReason(d.floor)
    return out
  }

  // ── settings ─────────────────────────────────────────────────────────────

  private settingsSet(patch: Parsed<'settings.set'>['settings']): Settings {
    let result: Settings | undefined
    this.changeConfig((c) => {
      const merged = {
        ...c.settings,
        ...dropUndefined(patch),
        audit: { ...c.settings.audit, ...dropUndefined(patch.audit ?? {}) },
        http: { ...c.settings.http, ...dropUndefined(patch.http ?? {}) },
      }
      const parsed = settingsSchema.safeParse(merged)
      if (!parsed.success) {
        throw new ControlError(
          `settings.set: ${parsed.error.issues.map((i) => `settings.${i.path.join('.')}: ${i.message}`).join('; ')}`,
          'INVALID_PARAMS',
        )
      }
      result = parsed.data
      return { ...c, settings: parsed.data }
    })
    const settings = result as Settings
    if (patch.paused !== undefined && patch.paused !== this.gw.paused)
      this.gw.setPaused(patch.paused)
    return settings
  }

  // ── audit ────────────────────────────────────────────────────────────────

  private onAudit(rec: AuditRecord, written: AuditTicket): void {
    // Where the record went, as the writer reports it (it is the only writer of these files).
    const at = written.at
    let added: ReturnType<AuditIndex['add']> = { kind: 'ignored' }
    if (at !== undefined) {
      try {
        // The writer made the args JSON and the ts ms of this record already.
        added = this.index.add(rec, at.file, at.offset, at.length, {
          argsJson: written.argsJson,
          tsMs: written.tsMs,
        })
      } catch (err) {
        this.log(`audit index: could not index record ${rec.seq} (${(err as Error).message})`)
      }
    }
    // Nobody watches: no live row. An outcome seen later by a new listener finds its call's
    // row in the index instead of recentCalls.
    if (this.events.listenerCount('audit.appended') === 0 && this.events.listenerCount('*') === 0) {
      if (rec.kind === 'outcome') this.recentCalls.delete(rec.callId)
      return
    }
    if (rec.kind === 'server_request') {
      // A server's request to the client: its own row, no risk class, no outcome to wait for.
      this.emit('audit.appended', AuditIndex.toCallRow({ call: rec }))
      return
    }
    if (rec.kind === 'call') {
      const row = this.callRow(AuditIndex.toCallRow({ call: rec }))
      if (forwarded(rec)) {
        if (this.recentCalls.size >= RECENT_CALLS_MAX)
          this.recentCalls.delete(this.recentCalls.keys().next().value as string)
        this.recentCalls.set(rec.callId, row)
      }
      this.emit('audit.appended', row)
      return
    }
    let base = this.recentCalls.get(rec.callId)
    this.recentCalls.delete(rec.callId)
    if (!base && added.kind === 'outcome') {
      const full = this.index.row(added.row)
      if (full) base = this.callRow(AuditIndex.toCallRow({ call: full.call }))
    }
    if (!base) return
    const row: CallRow = { ...base }
    if (rec.outcome !== undefined) row.outcome = rec.outcome
    if (rec.detail !== undefined) row.detail = rec.detail
    if (rec.latencyMs !== undefined) row.latencyMs = rec.latencyMs
    this.emit('audit.appended', row)
  }

  private callRow(row: CallRow): CallRow {
    row.risk = this.riskOf(row.server, row.tool)
    const retry = this.gw.approvals.retryState(row.callId)
    if (retry) row.retry = retry
    return row
  }

  private async auditQuery(
    filter: AuditFilter,
    limit: number,
    beforeSeq: number | undefined,
  ): Promise<ResultOf<'audit.query'>> {
    const page = await this.page(toIndexFilter(filter), limit, beforeSeq)
    return {
      rows: page.rows.map((r) => this.callRow(AuditIndex.toCallRow(r))),
      hasMore: page.hasMore,
    }
  }

  /**
   * A page of calls from the index, or from the files while it loads (after a restart: no
   * waiting). What is read from the files is read a slice at a time, with the event loop free
   * in between: a filter that matches little in a large log must not hold up tool calls.
   */
  private async page(
    f: IndexFilter,
    limit: number,
    beforeSeq: number | undefined,
  ): Promise<{ rows: IndexedCall[]; hasMore: boolean }> {
    const rows: IndexedCall[] = []
    let resume: DiskResume | undefined
    for (;;) {
      const want = limit - rows.length
      const slice = this.index.isReady
        ? this.index.query(f, want, beforeSeq, this.diskSliceRecords, resume)
        : diskPage(this.gw.paths.audit, f, want, beforeSeq, this.diskSliceRecords, resume)
      rows.push(...slice.rows)
      if (!slice.resume || rows.length >= limit) return { rows, hasMore: slice.hasMore }
      resume = slice.resume
      await new Promise((r) => setImmediate(r))
    }
  }

  /** One call by id: its id is searchable text, so a text query finds it; the exact id wins. */
  private async auditCall(callId: string): Promise<CallRow | null> {
    const page = await this.page({ text: callId }, 50, undefined)
    const hit = page.rows.find((r) => r.call.callId === callId)
    return hit ? this.callRow(AuditIndex.toCallRow(hit)) : null
  }

  private auditExport(filter: AuditFilter, format: 'csv' | 'jsonl'): ResultOf<'audit.export'> {
    const f = toIndexFilter(filter) // validates since/until with a clear message
    const q: AuditQuery = {}
    if (filter.server !== undefined) q.server = filter.server
    if (filter.tool !== undefined) q.tool = filter.tool
    if (filter.decision !== undefined) q.decision = filter.decision
    if (filter.client !== undefined) q.client = filter.client
    if (filter.text !== undefined && filter.text.trim() !== '') q.text = filter.text
    if (f.sinceMs !== undefined) q.since = f.sinceMs
    if (f.untilMs !== undefined) q.until = f.untilMs
    const chunks: string[] = []
    let size = 0
    exportAudit(this.gw.paths.audit, q, format, (chunk) => {
      size += chunk.length
      if (size > this.maxExportBytes) {
        throw new ControlError(
          `the export is larger than ${Math.round(this.maxExportBytes / 1048576)} MiB; narrow the filter (server, time range) or run "airlock audit export --format ${format} --out FILE"`,
          'TOO_LARGE',
        )
      }
      chunks.push(chunk)
    })
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\..*$/, '')
      .replace('T', '-')
    return { filename: `airlock-audit-${stamp}.${format}`, text: chunks.join('') }
  }
}

/** The last `n` lines of `text`. */
function lastLines(text: string, n: number): string {
  const lines = text.replace(/\n$/, '').split('\n')
  return lines.slice(-n).join('\n')
}

function forwarded(rec: AuditRecord): boolean {
  return rec.decision === 'allow' || rec.decision === 'approved'
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** An epoch-ms time from an ISO string or epoch ms (number or digits); throws naming the field. */
function filterTime(value: string | number, field: string): number {
  const ms = toMs(value)
  if (ms === undefined)
    throw new ControlError(`filter.${field}: ${timeExpected(value)}`, 'INVALID_PARAMS')
  return ms
}

function toIndexFilter(f: AuditFilter): IndexFilter {
  const out: IndexFilter = {}
  if (f.server !== undefined) out.server = f.server
  if (f.tool !== undefined) out.tool = f.tool
  if (f.decision !== undefined) out.decision = f.decision
  if (f.client !== undefined) out.client = f.client
  if (f.text !== undefined && f.text.trim() !== '') out.text = f.text
  if (f.since !== undefined) out.sinceMs = filterTime(f.since, 'since')
  if (f.until !== undefined) out.untilMs = filterTime(f.until, 'until')
  return out
}

/** A remote server's headers with the secret ones masked (their values live in the secret store). */
function maskedHeaders(s: ServerConfig): { headers?: Record<string, string> } {
  const secret = s.secretHeaders ?? []
  if (secret.length === 0) return {}
  const headers = { ...s.headers }
  for (const key of secret) headers[key] = MASK
  return { headers }
}
