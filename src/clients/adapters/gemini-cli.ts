/**
 * Gemini CLI: `~/.gemini/settings.json` and a project's `.gemini/settings.json`, `mcpServers`
 * by name. Read as Gemini CLI does (comments stripped, then `JSON.parse`: no trailing commas).
 * `url` is an SSE endpoint, `httpUrl` a Streamable HTTP one.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { pathFor, projectFiles, userFile } from '../locations'

/** The Gemini CLI adapter. */
export const geminiCli: ClientAdapter = jsonClient({
  id: 'gemini-cli',
  displayName: 'Gemini CLI',
  dialect: 'json-comments',
  httpEntry: { urlKey: 'httpUrl' },
  configFiles: (env) => [
    userFile('gemini-cli', pathFor(env).join(env.home, '.gemini', 'settings.json')),
    ...projectFiles('gemini-cli', env, '.gemini', 'settings.json'),
  ],
  urlTransport: (key) => (key === 'httpUrl' ? 'http' : 'sse'),
})
