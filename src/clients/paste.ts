/**
 * Servers from a pasted `mcpServers` block (as a client's README or config shows it): the text is
 * read as Claude Desktop reads its config (the same adapter), then imported as Airlock servers
 * with the same rules as importing from a client's file (src/clients/import.ts). Accepted: a
 * whole config (`{"mcpServers": {…}}`), the `"mcpServers": {…}` member alone, or the map of
 * servers itself (`{"github": {"command": …}}`). Comments and trailing commas are allowed.
 */
import type { ServerConfig } from '../shared/contract/config'
import { findClient } from './adapters/registry'
import { ClientConfigError, lineColumn } from './errors'
import { JsonSyntaxError, nodeValue, parseJsonTree } from './formats/jsonc'
import { importServers, type ImportedServer } from './import'

/** What a paste gives: the servers to add (or reuse), and what was wrong, each in words. */
export interface PastedServers {
  servers: ImportedServer[]
  errors: string[]
}

const PASTE = '(pasted text)'

/** The text as a JSON object whose `mcpServers` holds the servers, or an error in words. */
function asConfig(text: string): { text: string } | { error: string } {
  const trimmed = text.trim()
  if (trimmed === '') return { error: 'Nothing pasted: paste an "mcpServers" block.' }
  // `"mcpServers": {…}` alone is not a JSON document: braces make it one.
  const candidates = trimmed.startsWith('{') ? [trimmed] : [`{${trimmed}}`, trimmed]
  let first: JsonSyntaxError | undefined
  for (const candidate of candidates) {
    try {
      const value = nodeValue(parseJsonTree(candidate, 'jsonc'))
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return { error: 'Expected a JSON object with "mcpServers" (or the servers themselves).' }
      const obj = value as Record<string, unknown>
      // Claude Desktop reads strict JSON: hand it the value, comments and commas gone.
      if ('mcpServers' in obj) return { text: JSON.stringify({ mcpServers: obj.mcpServers }) }
      if ('servers' in obj && typeof obj.servers === 'object')
        return { text: JSON.stringify({ mcpServers: obj.servers }) }
      // The map of servers itself: every member an object with a command or a url.
      const members = Object.values(obj)
      if (
        members.length > 0 &&
        members.every((m) => typeof m === 'object' && m !== null && ('command' in m || 'url' in m))
      )
        return { text: JSON.stringify({ mcpServers: obj }) }
      return {
        error:
          'No "mcpServers" found: paste {"mcpServers": {"name": {"command": "…", "args": […]}}}.',
      }
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err
      first ??= err
    }
  }
  const err = first as JsonSyntaxError
  const at = lineColumn(candidates[0] as string, err.offset)
  return { error: `Not valid JSON at line ${at.line}, column ${at.column}: ${err.message}.` }
}

/**
 * The servers a pasted block describes, named and checked against the servers already
 * configured (an identical one is reused). Remote (URL) entries and entries Airlock cannot run
 * are reported in `errors`, each naming the entry.
 */
export function pastedServers(text: string, existing: readonly ServerConfig[]): PastedServers {
  const config = asConfig(text)
  if ('error' in config) return { servers: [], errors: [config.error] }
  const adapter = findClient('claude-desktop')
  if (!adapter) throw new Error('internal: the Claude Desktop adapter is missing')
  let entries
  try {
    entries = adapter.read(config.text, { client: 'pasted', file: PASTE, scope: 'user' })
  } catch (err) {
    if (err instanceof ClientConfigError) return { servers: [], errors: [err.message] }
    throw err
  }
  const errors: string[] = []
  const runnable = entries.filter((e) => {
    if (e.unsupported) errors.push(`"${e.name}": ${e.unsupported}`)
    else if (e.command === undefined || e.command.trim() === '')
      errors.push(
        e.url !== undefined
          ? `"${e.name}" is a remote server (${e.url}); add it with its URL from Servers → Add server.`
          : `"${e.name}" has no "command": give the program that starts the server.`,
      )
    else if (e.wrapped)
      errors.push(`"${e.name}" already runs through Airlock (airlock connect); nothing to add.`)
    else return true
    return false
  })
  if (entries.length === 0) errors.push('The "mcpServers" block holds no servers.')
  return { servers: importServers(runnable, 'pasted', existing), errors }
}
