/**
 * Reading, writing and watching the config file and the servers' policy files. An invalid file
 * is reported with its field path and never overwritten; a watcher keeps the last good state.
 */
import fs from 'node:fs'
import path from 'node:path'
import {
  configSchema,
  formatIssues,
  type Config,
  type ServerConfig,
} from '../shared/contract/config'
import { parsePolicy } from '../shared/policy/parse'
import type { Policy } from '../shared/policy/types'
import { writeFileAtomic } from './atomic-write'

/** A config file that cannot be read or does not match the schema. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(
    message: string,
    readonly code: 'CONFIG_INVALID' | 'CONFIG_UNREADABLE' | 'CONFIG_CONFLICT' = 'CONFIG_INVALID',
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Reads and validates the config file; a missing file is the empty default config. */
export function readConfig(file: string): Config {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return configSchema.parse({})
    throw new ConfigError(`${file}: cannot read (${(err as Error).message})`, 'CONFIG_UNREADABLE', {
      cause: err,
    })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(
      `${file}: (root): expected JSON (${(err as Error).message}); fix or remove the file`,
      'CONFIG_INVALID',
      { cause: err },
    )
  }
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) throw new ConfigError(formatIssues(file, parsed.error))
  const names = new Set<string>()
  parsed.data.servers.forEach((s, i) => {
    if (names.has(s.name))
      throw new ConfigError(
        `${file}: servers.${i}.name: expected a unique name, "${s.name}" is used twice`,
      )
    names.add(s.name)
  })
  return parsed.data
}

/** Writes the config atomically (0600; see `writeFileAtomic`). */
export function writeConfig(file: string, config: Config): void {
  const valid = configSchema.parse(config)
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  writeFileAtomic(file, JSON.stringify(valid, null, 2) + '\n')
}

/** Read-modify-write. Throws (and writes nothing) when the current file is invalid. */
export function updateConfig(file: string, change: (config: Config) => Config): Config {
  const next = change(readConfig(file))
  writeConfig(file, next)
  return next
}

/** Resolves a server's policy file reference against the data directory. */
export function policyPath(home: string, server: ServerConfig): string | undefined {
  return typeof server.policy === 'string' ? path.resolve(home, server.policy) : undefined
}

/** The policy for a server: its file, its inline object, or `default: <posture>` when none. */
export function loadServerPolicy(home: string, server: ServerConfig, config: Config): Policy {
  if (server.policy === undefined) {
    return parsePolicy(
      JSON.stringify({ version: '1', default: config.settings.defaultPosture }),
      `(default policy of ${server.name})`,
    )
  }
  if (typeof server.policy === 'object')
    return parsePolicy(JSON.stringify(server.policy), `config.json servers.${server.name}.policy`)
  const file = policyPath(home, server) as string
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the policy of server "${server.name}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); restore it or run "airlock policy set ${server.name} <file>"`,
      'CONFIG_UNREADABLE',
      { cause: err },
    )
  }
  return parsePolicy(text, file)
}
