/**
 * Helpers shared by the CLI commands: `node:util` parseArgs with its errors turned into usage
 * errors (exit 2), the few value parsers the commands have in common, and config access that
 * turns an invalid config.json into exit 3 without writing anything.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ConfigError, readConfig, updateConfig } from '../node/config-store'
import type { Config, ServerConfig } from '../shared/contract/config'
import { CliError } from './cli-error'
import { dataDir, dataDirProblem, isDataDirError } from '../node/paths'

/** Option specs as `parseArgs` takes them. */
export type OptionSpecs = NonNullable<ParseArgsConfig['options']>

/**
 * Parses `argv` strictly against `options` (positionals allowed). An unknown option or a missing
 * value is a usage error (exit 2) whose message names the command and how to get help.
 */
export function parseCommandArgs<O extends OptionSpecs>(
  command: string,
  argv: string[],
  options: O,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true })
  } catch (err) {
    throw new CliError(
      `${command}: ${(err as Error).message}; run "airlock help" for the usage`,
      2,
      { cause: err },
    )
  }
}

/** The positional at `index`, or a usage error (exit 2) naming what is missing and the usage line. */
export function positional(
  positionals: readonly string[],
  index: number,
  what: string,
  usage: string,
): string {
  const value = positionals[index]
  if (value === undefined || value === '') throw new CliError(`missing ${what}; usage: ${usage}`, 2)
  return value
}

/** Refuses positionals beyond `count` (exit 2). */
export function noExtraPositionals(
  positionals: readonly string[],
  count: number,
  usage: string,
): void {
  if (positionals.length > count) {
    throw new CliError(`unexpected argument "${positionals[count] ?? ''}"; usage: ${usage}`, 2)
  }
}

/** Parses `K=V` pairs into a record; a pair without `=` or with an empty key is an invalid input (exit 3). */
export function parsePairs(
  option: string,
  pairs: readonly string[] | undefined,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=')
    if (eq <= 0)
      throw new CliError(
        `--${option} "${pair}": expected KEY=VALUE (e.g. --${option} API_URL=https://example.com)`,
        3,
      )
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

/** A positive whole number option, or an invalid input (exit 3). */
export function positiveInt(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliError(`--${option} "${value}": expected a positive whole number`, 3)
  return n
}

/**
 * Turns a config-store failure into a CLI error: an invalid or unreadable config.json is exit 3
 * with the ConfigError's message (it names the file and the field) and a hint; others pass.
 */
export function configFailure(err: unknown): never {
  const home = dataDir()
  if (err instanceof ConfigError && isDataDirError(home, err.cause)) {
    // Not the file's content: the data directory around it cannot be used.
    throw new CliError(dataDirProblem(home, err.cause).message, 1, { cause: err })
  }
  if (err instanceof ConfigError) {
    throw new CliError(
      `${err.message}\nNothing was written; fix config.json (or move it aside) and try again.`,
      3,
      { cause: err },
    )
  }
  throw err
}

/** Reads config.json; an invalid or unreadable file is exit 3 with the file and field named. */
export function loadConfig(file: string): Config {
  try {
    return readConfig(file)
  } catch (err) {
    return configFailure(err)
  }
}

/** Read-modify-write of config.json; nothing is written when the file is invalid or `fn` throws. */
export function changeConfig(file: string, fn: (config: Config) => Config): Config {
  try {
    return updateConfig(file, fn)
  } catch (err) {
    return configFailure(err)
  }
}

/** The server named `name`, or exit 1 with a pointer to `servers list`. */
export function findServer(config: Config, name: string): ServerConfig {
  const server = config.servers.find((s) => s.name === name)
  if (!server) {
    const known = config.servers.map((s) => s.name)
    throw new CliError(
      `no server named "${name}"${known.length ? ` (configured: ${known.join(', ')})` : ''}; "airlock servers list" shows them, "airlock servers add" adds one`,
      1,
    )
  }
  return server
}
