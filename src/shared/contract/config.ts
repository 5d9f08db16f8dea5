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

export const serverConfigSchema = z.strictObject({
  name: serverNameSchema,
  command: z.string().min(1, 'expected the command that starts the MCP server'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /** Names of env entries whose values are secrets (kept in the OS keychain by the desktop host). */
  secretEnv: z.array(z.string()).default([]),
  cwd: z.string().optional(),
  enabled: z.boolean().default(true),
  /** Policy file path (absolute, or relative to the data directory), or an inline policy object. */
  policy: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
})

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
