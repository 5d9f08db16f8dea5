/**
 * The config file schema (`config.json` in the data directory): servers and settings.
 * One zod schema used by every host; errors name the field path and what was expected.
 */
import { z } from 'zod'

/** Server names are what `airlock connect <name>` takes: safe for paths and command lines. */
export const serverNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'expected a name of letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)',
  )

/** Header names whose values are secret whatever the user says (see {@link isSecretHeaderName}). */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|token|key|secret|password/i

/**
 * Whether a remote server's header value is kept out of config.json by default: Authorization
 * (and Proxy-Authorization, Cookie), and names that contain "token", "key", "secret" or
 * "password" (X-API-Key, X-Auth-Token…).
 */
export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADER.test(name)
}

/** An HTTP header name (RFC 9110 token). */
const headerNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'expected an HTTP header name')

export const serverConfigSchema = z
  .strictObject({
    name: serverNameSchema,
    /** A server Airlock spawns and speaks to over stdio. Exactly one of `command` and `url`. */
    command: z.string().min(1, 'expected the command that starts the MCP server').optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    /** Names of env entries whose values are secrets (kept in the OS keychain by the desktop host). */
    secretEnv: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    /**
     * A remote server Airlock reaches over Streamable HTTP (falling back to the older HTTP+SSE
     * transport): an http(s) URL.
     */
    url: z
      .string()
      .refine(isHttpUrl, 'expected an http:// or https:// URL of the remote MCP server')
      .optional(),
    /** Headers sent to a remote server (secret ones are kept in the secret store, not here). */
    headers: z.record(headerNameSchema, z.string()).optional(),
    /** Names of headers whose values are secrets (kept like `secretEnv` values). */
    secretHeaders: z.array(headerNameSchema).optional(),
    enabled: z.boolean().default(true),
    /** Policy file path (absolute, or relative to the data directory), or an inline policy object. */
    policy: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.command === undefined && s.url === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message:
          'expected "command" (a server Airlock starts) or "url" (a remote server), one of the two',
      })
    if (s.command !== undefined && s.url !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'expected "command" or "url", not both: a server is either started or remote',
      })
  })

/** Whether `value` is an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

/** Whether a server is remote (reached by URL) rather than started by Airlock. */
export function isRemote(server: ServerConfig): server is ServerConfig & { url: string } {
  return server.url !== undefined
}

/** The store key of a secret header's value, next to the secret env keys of the same server. */
export function headerSecretKey(name: string): string {
  return `header:${name}`
}

export const settingsSchema = z.strictObject({
  approvalTimeoutSeconds: z.number().int().min(1).max(3600).default(45),
  audit: z
    .strictObject({
      retentionDays: z.number().int().min(1).max(3650).default(30),
      maxFileBytes: z
        .number()
        .int()
        .min(4096)
        .default(64 * 1024 * 1024),
      durability: z.enum(['group', 'strict']).default('group'),
      argsMaxBytes: z
        .number()
        .int()
        .min(64)
        .max(1024 * 1024)
        .default(4096),
      redactKeys: z.array(z.string()).default([]),
      /** false: outcome records keep no excerpt of a call's result (only ok / is_error). */
      resultExcerpts: z.boolean().default(true),
    })
    .prefault({}),
  /** MCP over Streamable HTTP (`/mcp/<server>`): limits on sessions clients leave open. */
  http: z
    .strictObject({
      /** A session with no request in flight for this long is closed, with its server process. */
      sessionIdleMinutes: z.number().positive().max(1440).default(10),
      /** Sessions per server; at the cap, a new session closes the longest-idle one first. */
      maxSessionsPerServer: z.number().int().min(1).max(1024).default(32),
    })
    .prefault({}),
  /**
   * The risk floor (safe by default): tools of this class or above need a person's approval
   * unless the server's policy decides them explicitly. `off` leaves every tool to the policy.
   */
  riskFloor: z.enum(['critical', 'high', 'off']).default('critical'),
  /**
   * Tool pinning: a tool whose definition changed since it was pinned is refused (`block`), needs
   * a person's approval that shows the change (`approve`), or is not checked at all (`off`).
   */
  pinning: z.enum(['block', 'approve', 'off']).default('block'),
  /** Default posture for proposed policies of servers added without one. */
  defaultPosture: z.enum(['allow', 'deny', 'require_approval']).default('allow'),
  paused: z.boolean().default(false),
})

export const configSchema = z.strictObject({
  version: z.literal(1).default(1),
  servers: z.array(serverConfigSchema).default([]),
  settings: settingsSchema.prefault({}),
})

export type ServerConfig = z.infer<typeof serverConfigSchema>
export type Settings = z.infer<typeof settingsSchema>
export type Config = z.infer<typeof configSchema>

/** Formats zod issues as "file: path: message" lines. */
export function formatIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${file}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('\n')
}

/**
 * Splits a remote server's headers into those config.json may keep and the secret ones (by
 * {@link isSecretHeaderName}, or named in `markedSecret`, compared case-insensitively).
 */
export function splitSecretHeaders(
  headers: Record<string, string>,
  markedSecret: readonly string[] = [],
): { plain: Record<string, string>; secret: Record<string, string> } {
  const marked = new Set(markedSecret.map((h) => h.toLowerCase()))
  const plain: Record<string, string> = {}
  const secret: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (isSecretHeaderName(name) || marked.has(name.toLowerCase())) secret[name] = value
    else plain[name] = value
  }
  return { plain, secret }
}
