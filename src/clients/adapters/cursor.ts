/**
 * Cursor: `~/.cursor/mcp.json` and a project's `.cursor/mcp.json`, `mcpServers` by name. Read
 * leniently (comments, trailing commas); a file that was plain JSON stays plain JSON.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { pathFor, projectFiles, userFile } from '../locations'

/** The Cursor adapter. */
export const cursor: ClientAdapter = jsonClient({
  id: 'cursor',
  displayName: 'Cursor',
  dialect: 'jsonc',
  httpEntry: { urlKey: 'url' },
  configFiles: (env) => [
    userFile('cursor', pathFor(env).join(env.home, '.cursor', 'mcp.json')),
    ...projectFiles('cursor', env, '.cursor', 'mcp.json'),
  ],
})
