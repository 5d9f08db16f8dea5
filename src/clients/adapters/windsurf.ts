/**
 * Windsurf: `~/.codeium/windsurf/mcp_config.json` (`%USERPROFILE%` on Windows), `mcpServers` by
 * name; remote servers use `serverUrl`. Read leniently; a plain-JSON file stays plain JSON.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { pathFor, userFile } from '../locations'

/** The Windsurf adapter. */
export const windsurf: ClientAdapter = jsonClient({
  id: 'windsurf',
  displayName: 'Windsurf',
  dialect: 'jsonc',
  httpEntry: { urlKey: 'serverUrl' },
  configFiles: (env) => [
    userFile('windsurf', pathFor(env).join(env.home, '.codeium', 'windsurf', 'mcp_config.json')),
  ],
})
