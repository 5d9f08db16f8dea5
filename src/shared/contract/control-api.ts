/**
 * The control API: one typed contract of requests and events between a UI and the gateway.
 * Three transports carry it: Electron IPC (preload → main → gateway), the headless WebSocket, and
 * the control connection on the agent socket (src/node/control-wire.ts; the CLI's link).
 * Every request's params are parsed with these schemas on arrival; types are inferred from them.
 */
import { z } from 'zod'
import { AUDIT_DECISIONS, DECISION_GROUPS } from './audit-record'
import { serverConfigSchema, settingsSchema } from './config'

// ── shared shapes ──────────────────────────────────────────────────────────

/** A risk class, lowest to highest. */
export const riskSchema = z.enum(['low', 'medium', 'high', 'critical'])
/** What a tool does. */
export const categorySchema = z.enum([
  'read',
  'write',
  'destructive',
  'execute',
  'financial',
  'communication',
  'auth',
])

export const decisionKindSchema = z.enum(AUDIT_DECISIONS)

/**
 * A call denied for want of an answer (timed out, or no approver) whose retry can still be allowed
 * late (until `until`, epoch ms), or was (`allowedBy`): an identical retry then passes once.
 */
export const retryStateSchema = z.object({
  until: z.number(),
  allowedBy: z.string().optional(),
})

/** A decision or a named group of decisions (`blocked`: every call that was kept from running). */
export const decisionPickSchema = z.enum([
  ...AUDIT_DECISIONS,
  ...(Object.keys(DECISION_GROUPS) as (keyof typeof DECISION_GROUPS)[]),
])

/** A call as the Activity view shows it: the decision record joined with its outcome. */
export const callRowSchema = z.object({
  /** Set for a request the server sent the client (sampling, elicitation, roots): `tool` is its method. */
  kind: z.literal('server_request').optional(),
  seq: z.number(),
  ts: z.string(),
  callId: z.string(),
  session: z.string(),
  client: z.string().optional(),
  server: z.string(),
  tool: z.string(),
  args: z.unknown().optional(),
  risk: riskSchema.optional(),
  decision: decisionKindSchema,
  decidedBy: z.string().optional(),
  rule: z.string().optional(),
  reason: z.string().optional(),
  outcome: z.enum(['ok', 'is_error', 'error', 'server_exit', 'cancelled']).optional(),
  detail: z.string().optional(),
  latencyMs: z.number().optional(),
  /** Set while this call's retry can be (or has been) allowed late, from the running gateway. */
  retry: retryStateSchema.optional(),
})

export const auditFilterSchema = z.strictObject({
  server: z.string().max(200).optional(),
  tool: z.string().max(200).optional(),
  /** One decision or group, or several (a call matches any of them). */
  decision: z
    .union([
      decisionPickSchema,
      z
        .array(decisionPickSchema)
        .min(1)
        .max(AUDIT_DECISIONS.length + 1),
    ])
    .optional(),
  client: z.string().max(200).optional(),
  text: z.string().max(500).optional(),
  since: z.union([z.string().max(64), z.number()]).optional(),
  until: z.union([z.string().max(64), z.number()]).optional(),
})

/** A verdict as policy replay compares them. */
export const verdictSchema = z.enum(['allow', 'deny', 'hidden', 'rate_limited', 'require_approval'])

/** What replaying recorded calls against a draft policy found (shared/policy/replay.ts). */
export const replayReportSchema = z.object({
  calls: z.number(),
  changed: z.number(),
  skipped: z.number(),
  from: z.string().optional(),
  to: z.string().optional(),
  tools: z.array(
    z.object({
      server: z.string(),
      tool: z.string(),
      calls: z.number(),
      unchanged: z.number(),
      changes: z.array(
        z.object({
          was: verdictSchema,
          wouldBe: verdictSchema,
          count: z.number(),
          examples: z.array(
            z.object({
              seq: z.number(),
              ts: z.string(),
              client: z.string().optional(),
              args: z.string(),
              reason: z.string().optional(),
            }),
          ),
        }),
      ),
    }),
  ),
})

export const pendingApprovalSchema = z.object({
  id: z.string(),
  session: z.string(),
  client: z.string(),
  server: z.string(),
  tool: z.string(),
  argsExcerpt: z.string(),
  argsDigest: z.string(),
  rule: z.string().optional(),
  reason: z.string().optional(),
  risk: z.string().optional(),
  /** The tool changed since it was pinned (setting `pinning: approve`): when, and what changed. */
  pin: z
    .object({
      pinnedAt: z.string(),
      changes: z.array(
        z.object({
          field: z.enum(['description', 'inputSchema', 'annotations']),
          old: z.string(),
          new: z.string(),
        }),
      ),
    })
    .optional(),
  requestedAt: z.number(),
  deadline: z.number(),
  /** The held call's id (its Activity row). */
  callId: z.string().optional(),
  /** The server asks the client (`tool` is the method, `argsExcerpt` its params); allow once or deny. */
  serverRequest: z.enum(['sampling', 'elicitation', 'roots']).optional(),
})

/** `allow_hour`: this tool, any arguments, any session, for one hour (a grant that expires). */
export const approvalAnswerSchema = z.enum([
  'allow_once',
  'allow_session',
  'allow_hour',
  'allow_always',
  'deny',
])

export const grantSchema = z.object({
  id: z.string(),
  scope: z.enum(['call', 'session', 'tool', 'always']),
  server: z.string(),
  tool: z.string(),
  session: z.string().optional(),
  digest: z.string().optional(),
  until: z.number().optional(),
  createdAt: z.number(),
  /** Who allowed a call's retry late (a single-use `call` grant). */
  by: z.string().optional(),
})

export const sessionInfoSchema = z.object({
  id: z.string(),
  server: z.string(),
  client: z.string(),
  startedAt: z.number(),
  held: z.number(),
  transport: z.enum(['stdio', 'http']),
  /** HTTP sessions: ms since the last request ended (0 while one is in flight). */
  idleMs: z.number().optional(),
})

/** How protected a server is, in the words every screen and `airlock policy show` use. */
export const protectionSchema = z.object({
  level: z.enum(['policy', 'floor', 'open', 'unlisted', 'broken']),
  label: z.string(),
  summary: z.string(),
  floorTools: z.array(z.object({ name: z.string(), why: z.string() })),
})

/** A server as the UI shows it: its config (secret env values masked) and live status. */
export const serverViewSchema = z.object({
  config: serverConfigSchema,
  sessions: z.number(),
  /**
   * How Airlock reaches the server: `stdio` (a process it starts), or for a remote server the
   * transport it last answered on (absent until a session connected).
   */
  transport: z.enum(['stdio', 'streamable-http', 'sse']).optional(),
  /** A remote server's authentication: none, headers from the secret store, or OAuth. */
  auth: z.enum(['none', 'headers', 'oauth']).optional(),
  /**
   * An OAuth server's sign-in: `signed-in` (a token is stored), `needs-sign-in` (its requests
   * are refused until someone signs in), `signing-in` (a sign-in link is open: `signInUrl`).
   */
  signIn: z.enum(['signed-in', 'needs-sign-in', 'signing-in']).optional(),
  /** The sign-in link under way (the authorization server's page; open it in a browser). */
  signInUrl: z.string().optional(),
  /**
   * running: a process of it runs now; idle: none runs (one starts when a client connects);
   * failing: none runs and the last one exited on its own or could not start; disabled.
   */
  status: z.enum(['running', 'idle', 'failing', 'disabled']),
  /** Process ids of its running processes (one per session). */
  pids: z.array(z.number()),
  /** When a process of it last started (epoch ms). */
  lastStartAt: z.number().optional(),
  /** Its last process exit: when, why, and whether Airlock ended it (a session closed). */
  lastExit: z.object({ at: z.number(), reason: z.string(), expected: z.boolean() }).optional(),
  /** The last lines it wrote to stderr (raw text: escape before showing). */
  stderrTail: z.string().optional(),
  /** How many tools it listed last (undefined: never listed). */
  toolCount: z.number().optional(),
  /** Client names of its sessions now. */
  sessionClients: z.array(z.string()),
  lastError: z.string().optional(),
  policyError: z.string().optional(),
  /** What Airlock does with its calls (see src/shared/protection.ts). */
  protection: protectionSchema.optional(),
})

/** A tool with its risk classification and the action the policy gives it. */
export const toolViewSchema = z.object({
  name: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  category: categorySchema,
  risk: riskSchema,
  /** The action the current policy takes on a call with no arguments. */
  action: z.enum(['allow', 'deny', 'hide', 'require_approval', 'rate_limited']),
  /** Set when the risk floor asks for this tool, not the policy: why (`auth — "logout"`). */
  floor: z.string().optional(),
  /** The decision depends on the call (conditions on arguments, counters or clients): `action` is only what a call without arguments gets. */
  conditional: z.boolean().optional(),
})

/** One saved version of a server's policy (policy.history), newest first. */
export const policyVersionSchema = z.object({
  id: z.string(),
  savedAt: z.number(),
  bytes: z.number(),
})

/** What the engine decides for one call (policy.try). */
export const policyTryResultSchema = z.object({
  kind: z.enum(['allow', 'deny', 'hidden', 'rate_limited', 'needs_approval']),
  rule: z.string().optional(),
  reason: z.string().optional(),
  /** The decision in one line, as `airlock policy eval` prints it. */
  summary: z.string(),
  /** Set when the risk floor asks, not the policy: why. */
  floor: z.string().optional(),
})

/** A pinned tool definition (the fields a model reads). */
export const toolDefinitionSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.unknown().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
})

/** A tool's pin: when it was pinned, and the definition the server lists now when it differs. */
export const pinViewSchema = z.object({
  name: z.string(),
  state: z.enum(['pinned', 'changed', 'new']),
  pinnedAt: z.string(),
  hash: z.string(),
  pinned: toolDefinitionSchema,
  current: toolDefinitionSchema.optional(),
  seenAt: z.string().optional(),
})

/** A server with tools to review: changed since pinned, or new since its first list. */
export const pinSummarySchema = z.object({
  server: z.string(),
  changed: z.array(z.string()),
  added: z.array(z.string()),
})

export const policyIssueSchema = z.object({
  file: z.string(),
  path: z.string(),
  expected: z.string(),
  message: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
})

export const statusSchema = z.object({
  pid: z.number(),
  home: z.string(),
  paused: z.boolean(),
  sessions: z.array(sessionInfoSchema),
  pending: z.number(),
  errors: z.array(z.string()),
  /** Where secret env values are kept, in words ("the OS keychain…", secrets.json's path). */
  secretStore: z.string().optional(),
  /** Remote servers whose agents are refused until someone signs in (OAuth). */
  signIn: z
    .array(z.object({ server: z.string(), state: z.enum(['needs-sign-in', 'signing-in']) }))
    .optional(),
})

const auditSettings = settingsSchema.shape.audit.unwrap().shape
const httpSettings = settingsSchema.shape.http.unwrap().shape

/**
 * A change to the settings: only the fields given change (`audit` merges field by field). Built
 * from the settings schema without its defaults, so that a partial change never resets the rest.
 */
export const settingsPatchSchema = z.strictObject({
  approvalTimeoutSeconds: settingsSchema.shape.approvalTimeoutSeconds.unwrap().optional(),
  audit: z
    .strictObject({
      retentionDays: auditSettings.retentionDays.unwrap().optional(),
      maxFileBytes: auditSettings.maxFileBytes.unwrap().optional(),
      durability: auditSettings.durability.unwrap().optional(),
      argsMaxBytes: auditSettings.argsMaxBytes.unwrap().optional(),
      redactKeys: auditSettings.redactKeys.unwrap().optional(),
      resultExcerpts: auditSettings.resultExcerpts.unwrap().optional(),
    })
    .optional(),
  http: z
    .strictObject({
      sessionIdleMinutes: httpSettings.sessionIdleMinutes.unwrap().optional(),
      maxSessionsPerServer: httpSettings.maxSessionsPerServer.unwrap().optional(),
    })
    .optional(),
  defaultPosture: settingsSchema.shape.defaultPosture.unwrap().optional(),
  riskFloor: settingsSchema.shape.riskFloor.unwrap().optional(),
  pinning: settingsSchema.shape.pinning.unwrap().optional(),
  paused: settingsSchema.shape.paused.unwrap().optional(),
})

// ── MCP clients (Claude Desktop, Cursor…) and their protection ─────────────

/** How a client reaches a server. */
export const clientRouteSchema = z.enum(['stdio', 'http', 'sse'])

/** One MCP server entry in a client's config file, and whether it goes through Airlock. */
export const clientEntrySchema = z.object({
  /** The client's name for the server. */
  name: z.string(),
  /** `local`: Claude Code's per-project entries inside `~/.claude.json`. */
  scope: z.enum(['user', 'project', 'local']),
  project: z.string().optional(),
  route: clientRouteSchema,
  /** The command line (stdio) or URL the client runs, for display. */
  target: z.string(),
  protected: z.boolean(),
  /** The Airlock server a protected entry connects to. */
  airlockServer: z.string().optional(),
  /** Airlock wrapped this entry and the client (or a person) rewrote it back: not protected. */
  drifted: z.boolean(),
  /** A wrapped entry whose node or shim path is gone: it reaches nothing; a wrap repairs it. */
  broken: z.boolean().optional(),
  /** Airlock can wrap it now (an unprotected stdio entry it knows how to edit). */
  canProtect: z.boolean(),
  /** Airlock wrapped it and can put the original back. */
  canRestore: z.boolean(),
  /** Why it is not protected, or what is wrong with its protection. */
  problem: z.string().optional(),
})

/** One config file of a client. */
export const clientFileSchema = z.object({
  file: z.string(),
  scope: z.enum(['user', 'project']),
  project: z.string().optional(),
  /** The file could not be read or parsed (nothing else is known about it). */
  error: z.string().optional(),
  entries: z.array(clientEntrySchema),
})

/** A detected MCP client: its config files and their servers. */
export const clientViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  files: z.array(clientFileSchema),
})

/** A wrapped entry that is no longer protected: rewritten back (drift), or broken. */
export const driftedEntrySchema = z.object({
  client: z.string(),
  clientName: z.string(),
  file: z.string(),
  /** The client's name for the server. */
  server: z.string(),
  /** The Airlock server it was wrapped onto. */
  airlockServer: z.string(),
  /** Set when the entry is still wrapped but reaches nothing: its node or shim is gone. */
  broken: z.string().optional(),
})

/** The protection summary: what drifted, and how many entries Airlock watches. */
export const clientsStatusSchema = z.object({
  /** Entries Airlock wrapped that are not protected now: rewritten back, or broken. */
  drifted: z.array(driftedEntrySchema),
  /** Entries Airlock wrapped (protected or drifted). */
  watched: z.number(),
})

/** What a wrap or a restore would do, shown before anything is written. */
export const clientPlanSchema = z.object({
  /** Pass to clients.apply to write exactly this (valid until `expiresAt`, once). */
  planId: z.string(),
  client: z.string(),
  clientName: z.string(),
  action: z.enum(['wrap', 'restore']),
  server: z.string().optional(),
  /** The unified diff of every file it changes (empty: nothing to change). */
  diff: z.string(),
  files: z.array(z.object({ file: z.string(), servers: z.array(z.string()) })),
  /** What else happens or is left alone (servers added to Airlock, entries skipped, how a restore works). */
  notes: z.array(z.string()),
  /** Files it cannot change, and why (they are left alone). */
  errors: z.array(z.string()),
  expiresAt: z.number(),
})

/** What clients.apply did. `applied: false`: a file changed since the plan; `plan` is the new one to review. */
export const clientApplyResultSchema = z.object({
  applied: z.boolean(),
  written: z.array(z.string()),
  backups: z.array(z.string()),
  notes: z.array(z.string()),
  errors: z.array(z.string()),
  plan: clientPlanSchema.optional(),
})

const empty = z.strictObject({})

/** Start at login: a desktop-app setting (main answers it); `airlock serve` reports it unsupported. */
export const startAtLoginSchema = z.object({
  supported: z.boolean(),
  enabled: z.boolean(),
  /** What the system says about the login item when it will not start as set (macOS, Windows). */
  note: z.string().optional(),
})
const serverRef = z.strictObject({ server: z.string().max(64) })

/** Every request: method → params and result schemas. */
export const controlRequests = {
  'status.get': { params: empty, result: statusSchema },
  'servers.list': { params: empty, result: z.array(serverViewSchema) },
  'servers.add': {
    params: z.strictObject({
      server: serverConfigSchema,
      secretValues: z.record(z.string(), z.string()).optional(),
    }),
    result: serverViewSchema,
  },
  'servers.update': {
    params: z.strictObject({
      name: z.string().max(64),
      server: serverConfigSchema,
      secretValues: z.record(z.string(), z.string()).optional(),
    }),
    result: serverViewSchema,
  },
  /**
   * Servers from a pasted `mcpServers` block (read as a client config is read). With `apply` the
   * new ones are added, and only when nothing was wrong; without, it is a preview.
   */
  'servers.paste': {
    params: z.strictObject({ text: z.string().max(256 * 1024), apply: z.boolean() }),
    result: z.object({
      servers: z.array(
        z.object({
          name: z.string(),
          command: z.string(),
          args: z.array(z.string()),
          envKeys: z.array(z.string()),
          /** A server with this command is configured already (it is used, nothing is added). */
          reuse: z.boolean(),
          warnings: z.array(z.string()),
        }),
      ),
      errors: z.array(z.string()),
      added: z.array(z.string()),
    }),
  },
  'servers.remove': { params: z.strictObject({ name: z.string().max(64) }), result: z.boolean() },
  'servers.setEnabled': {
    params: z.strictObject({ name: z.string().max(64), enabled: z.boolean() }),
    result: serverViewSchema,
  },
  /**
   * Restarts the server's running processes (each session's), re-initialized with their client's
   * initialize; with none running, starts it once to check it (lists its tools, then stops it).
   */
  'servers.restart': {
    params: z.strictObject({ name: z.string().max(64) }),
    result: z.object({ restarted: z.number(), message: z.string(), server: serverViewSchema }),
  },
  /**
   * Starts signing in to a remote server that uses OAuth (or returns the sign-in under way):
   * the link to open, opened in the system browser too when `open` and the host can (the app).
   * `signed-in` when the stored refresh token was enough.
   */
  'servers.login': {
    params: z.strictObject({ name: z.string().max(64), open: z.boolean().optional() }),
    result: z.object({
      status: z.enum(['signed-in', 'redirect']),
      url: z.string().optional(),
      message: z.string(),
    }),
  },
  /** Forgets a remote server's OAuth tokens and registration; its next request needs a sign-in. */
  'servers.logout': { params: z.strictObject({ name: z.string().max(64) }), result: z.boolean() },
  'tools.list': {
    params: z.strictObject({ server: z.string().max(64), discover: z.boolean().optional() }),
    result: z.array(toolViewSchema),
  },
  'pins.list': { params: serverRef, result: z.array(pinViewSchema) },
  'pins.summary': { params: empty, result: z.array(pinSummarySchema) },
  'pins.accept': {
    params: z.strictObject({ server: z.string().max(64), tool: z.string().max(256).optional() }),
    result: z.object({ accepted: z.array(z.string()) }),
  },
  'policy.get': {
    params: serverRef,
    result: z.object({
      text: z.string(),
      path: z.string().optional(),
      proposed: z.boolean(),
      /** The file is outside the data directory (or inline): a save writes a copy into it. */
      copiedOnSave: z.boolean().optional(),
    }),
  },
  /** The saved versions of a server's policy, newest first. */
  'policy.history': { params: serverRef, result: z.array(policyVersionSchema) },
  /** One saved version's text and its diff to the policy saved now (empty when equal). */
  'policy.version': {
    params: z.strictObject({ server: z.string().max(64), id: z.string().max(40) }),
    result: z.object({ text: z.string(), diff: z.string() }),
  },
  /**
   * The engine's decision for one call of `tool` with `args`: against `text` when given (the
   * editor's unsaved text), else the saved policy. Counters start empty; nothing is recorded.
   */
  'policy.try': {
    params: z.strictObject({
      server: z.string().max(64),
      tool: z.string().min(1).max(200),
      args: z.record(z.string(), z.unknown()).default({}),
      client: z.string().max(200).optional(),
      text: z
        .string()
        .max(1024 * 1024)
        .optional(),
    }),
    result: policyTryResultSchema,
  },
  'policy.set': {
    params: z.strictObject({ server: z.string().max(64), text: z.string().max(1024 * 1024) }),
    result: z.object({ ok: z.boolean(), errors: z.array(policyIssueSchema) }),
  },
  'policy.validate': {
    params: z.strictObject({ text: z.string().max(1024 * 1024) }),
    result: z.object({ ok: z.boolean(), errors: z.array(policyIssueSchema) }),
  },
  /**
   * Recorded calls of `server` (since `since`: epoch ms or ISO time; default all retained)
   * decided again by the draft `text`: per tool, was → would be. An invalid draft: `ok: false`
   * with its errors, as policy.validate gives them.
   */
  'policy.replay': {
    params: z.strictObject({
      server: z.string().max(64),
      text: z.string().max(1024 * 1024),
      since: z.union([z.string().max(64), z.number()]).optional(),
    }),
    result: z.union([
      z.object({ ok: z.literal(true), report: replayReportSchema }),
      z.object({ ok: z.literal(false), errors: z.array(policyIssueSchema) }),
    ]),
  },
  'approvals.list': { params: empty, result: z.array(pendingApprovalSchema) },
  'approvals.decide': {
    params: z
      .strictObject({
        id: z.string().max(64),
        answer: approvalAnswerSchema,
        /** With `deny` only: what the agent is told (control characters become spaces; cut at 500). */
        message: z.string().max(2000).optional(),
      })
      .refine((p) => p.message === undefined || p.answer === 'deny', {
        message: 'a message goes with answer "deny" only',
        path: ['message'],
      }),
    result: z.enum(['ok', 'late', 'unknown']),
  },
  /**
   * Allows the retry of a call denied because nobody answered in time (or no approver was open),
   * within the late window the agent was told: an identical retry then passes once, without
   * asking. Fails with a message saying why when the call is not such a call or the window passed.
   */
  'approvals.allowRetry': {
    params: z.strictObject({ callId: z.string().max(200) }),
    result: retryStateSchema,
  },
  'grants.list': { params: empty, result: z.array(grantSchema) },
  'grants.revoke': { params: z.strictObject({ id: z.string().max(64) }), result: z.boolean() },
  'audit.query': {
    params: z.strictObject({
      filter: auditFilterSchema.default({}),
      limit: z.number().int().min(1).max(1000).default(100),
      beforeSeq: z.number().optional(),
    }),
    result: z.object({ rows: z.array(callRowSchema), hasMore: z.boolean() }),
  },
  /** One call by its id (a link to one call); null when no call has that id. */
  'audit.call': {
    params: z.strictObject({ callId: z.string().min(1).max(128) }),
    result: callRowSchema.nullable(),
  },
  /** Server, tool and client names seen in the log (suggestions for the History filters). */
  'audit.names': {
    params: empty,
    result: z.object({
      servers: z.array(z.string()),
      tools: z.array(z.string()),
      clients: z.array(z.string()),
    }),
  },
  'audit.export': {
    params: z.strictObject({
      filter: auditFilterSchema.default({}),
      format: z.enum(['csv', 'jsonl']),
    }),
    result: z.object({ filename: z.string(), text: z.string() }),
  },
  'audit.histogram': {
    params: z.strictObject({
      since: z.number(),
      until: z.number(),
      buckets: z.number().int().min(1).max(500).default(60),
      /** Count only the calls this filter passes (its since/until are ignored: the range wins). */
      filter: auditFilterSchema.optional(),
    }),
    result: z.object({
      start: z.number(),
      bucketMs: z.number(),
      series: z.array(
        z.object({
          server: z.string(),
          allowed: z.array(z.number()),
          approved: z.array(z.number()),
          denied: z.array(z.number()),
        }),
      ),
    }),
  },
  'settings.get': { params: empty, result: settingsSchema },
  'settings.set': {
    params: z.strictObject({ settings: settingsPatchSchema }),
    result: settingsSchema,
  },
  'pause.set': { params: z.strictObject({ paused: z.boolean() }), result: z.boolean() },
  'clients.list': { params: empty, result: z.array(clientViewSchema) },
  'clients.status': { params: empty, result: clientsStatusSchema },
  'clients.plan': {
    params: z.strictObject({
      client: z.string().max(64),
      server: z.string().max(200).optional(),
      action: z.enum(['wrap', 'restore']),
    }),
    result: clientPlanSchema,
  },
  'clients.apply': {
    params: z.strictObject({ planId: z.string().max(64) }),
    result: clientApplyResultSchema,
  },
  'app.getStartAtLogin': { params: empty, result: startAtLoginSchema },
  'app.setStartAtLogin': {
    params: z.strictObject({ enabled: z.boolean() }),
    result: startAtLoginSchema,
  },
} as const

/** Every event: name → payload schema. */
export const controlEvents = {
  'approval.requested': pendingApprovalSchema,
  'approval.resolved': z.object({
    id: z.string(),
    outcome: z.object({ answer: z.string(), by: z.string() }),
  }),
  'audit.appended': callRowSchema,
  /** A listed call changed without a new record (its retry was allowed late): update it in place. */
  'call.updated': z.object({ callId: z.string(), retry: retryStateSchema.optional() }),
  /** A grant was added (an answer, a late allow) or revoked. */
  'grants.changed': empty,
  'sessions.changed': z.array(sessionInfoSchema),
  'servers.changed': empty,
  /** A server's tools to review changed (a tool changed, is new, or was accepted). */
  'pins.changed': serverRef,
  paused: z.object({ paused: z.boolean() }),
  /** A wrapped entry's protection changed (drift, re-wrap), or a wrap or restore was applied. */
  'clients.changed': clientsStatusSchema,
  /** The desktop host asks the window to show a screen (the tray's "Re-protect…"); never from the gateway. */
  'ui.show': z.object({ screen: z.enum(['clients', 'approvals']) }),
  /** Start at login changed (from the tray or a window); from the desktop host only. */
  'app.startAtLogin': startAtLoginSchema,
} as const

export type ControlMethod = keyof typeof controlRequests
export type ControlEvent = keyof typeof controlEvents
export type ParamsOf<M extends ControlMethod> = z.input<(typeof controlRequests)[M]['params']>
export type ResultOf<M extends ControlMethod> = z.infer<(typeof controlRequests)[M]['result']>
export type EventOf<E extends ControlEvent> = z.infer<(typeof controlEvents)[E]>

export type CallRow = z.infer<typeof callRowSchema>
export type ToolView = z.infer<typeof toolViewSchema>
export type PolicyVersionView = z.infer<typeof policyVersionSchema>
export type PolicyTryResult = z.infer<typeof policyTryResultSchema>
export type ServerView = z.infer<typeof serverViewSchema>
export type ProtectionView = z.infer<typeof protectionSchema>
export type PendingApprovalView = z.infer<typeof pendingApprovalSchema>
export type GrantView = z.infer<typeof grantSchema>
export type RetryState = z.infer<typeof retryStateSchema>
export type ReplayReportView = z.infer<typeof replayReportSchema>
export type AuditFilter = z.infer<typeof auditFilterSchema>
export type DecisionPick = z.infer<typeof decisionPickSchema>
export type Risk = z.infer<typeof riskSchema>
export type Category = z.infer<typeof categorySchema>
export type ClientView = z.infer<typeof clientViewSchema>
export type ClientFileView = z.infer<typeof clientFileSchema>
export type ClientEntryView = z.infer<typeof clientEntrySchema>
export type ClientPlan = z.infer<typeof clientPlanSchema>
export type ClientApplyResult = z.infer<typeof clientApplyResultSchema>
export type ClientsStatus = z.infer<typeof clientsStatusSchema>
export type DriftedEntry = z.infer<typeof driftedEntrySchema>
export type StartAtLogin = z.infer<typeof startAtLoginSchema>
export type PinViewRow = z.infer<typeof pinViewSchema>
export type PinSummaryView = z.infer<typeof pinSummarySchema>

/** The two halves a transport supplies: a request/response call and an event subscription. */
export interface ControlTransport {
  call(method: ControlMethod, params: unknown): Promise<unknown>
  on(event: ControlEvent, listener: (data: unknown) => void): () => void
}

type Group<M extends string> = M extends `${infer G}.${string}` ? G : never
type Member<M extends string, G extends string> = M extends `${G}.${infer N}` ? N : never

/**
 * The API as UIs use it: named methods grouped by domain (`api.servers.list()`), plus `on`,
 * which returns an unsubscribe function. No channel or method names leak to callers.
 */
export type AirlockApi = {
  [G in Group<ControlMethod>]: {
    [N in Member<ControlMethod, G>]: `${G}.${N}` extends infer M extends ControlMethod
      ? // Params with no required field may be omitted.
        // eslint-disable-next-line @typescript-eslint/no-empty-object-type
        {} extends ParamsOf<M>
        ? (params?: ParamsOf<M>) => Promise<ResultOf<M>>
        : (params: ParamsOf<M>) => Promise<ResultOf<M>>
      : never
  }
} & {
  on<E extends ControlEvent>(event: E, listener: (data: EventOf<E>) => void): () => void
}

/** Builds the named-method API over a transport. */
export function createApi(transport: ControlTransport): AirlockApi {
  const api: Record<string, unknown> = {
    on: (event: ControlEvent, listener: (data: unknown) => void) => transport.on(event, listener),
  }
  for (const method of Object.keys(controlRequests) as ControlMethod[]) {
    const [group, name] = method.split('.') as [string, string]
    const g = (api[group] ??= {}) as Record<string, unknown>
    g[name] = (params?: unknown) => transport.call(method, params ?? {})
  }
  return api as AirlockApi
}

/** Whether a string names a control method (for transports that receive untrusted names). */
export function isControlMethod(m: unknown): m is ControlMethod {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(controlRequests, m)
}

/** Whether a string names a control event. */
export function isControlEvent(e: unknown): e is ControlEvent {
  return typeof e === 'string' && Object.prototype.hasOwnProperty.call(controlEvents, e)
}
