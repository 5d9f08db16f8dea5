/**
 * VS Code: the user `mcp.json` in `Code/User` (and each profile's, Insiders and VSCodium too)
 * and a workspace's `.vscode/mcp.json`. JSONC; servers sit under `servers` with `type`
 * stdio|http|sse; `inputs` and `${input:…}` placeholders are left as they are, except that a wrap
 * onto the HTTP endpoint adds the `airlock-token` input its entries' headers reference.
 */
import type { ClientAdapter, ConfigLocation } from './adapter'
import { jsonClient } from './json-client'
import { pathFor, projectFiles, userFile, vscodeUserDirs } from '../locations'

/** The VS Code adapter. */
export const vscode: ClientAdapter = jsonClient({
  id: 'vscode',
  displayName: 'VS Code',
  dialect: 'jsonc',
  configFiles(env, dirs) {
    const p = pathFor(env)
    const user: ConfigLocation[] = []
    for (const dir of vscodeUserDirs(env)) {
      user.push(userFile('vscode', p.join(dir, 'mcp.json')))
      const profiles = p.join(dir, 'profiles')
      for (const id of dirs.list(profiles).sort())
        user.push(userFile('vscode', p.join(profiles, id, 'mcp.json')))
    }
    return [...user, ...projectFiles('vscode', env, '.vscode', 'mcp.json')]
  },
  serverMaps: () => [{ path: ['servers'] }],
  // VS Code resolves `${input:…}` in headers: the token stays in its secret storage, not here.
  httpEntry: { urlKey: 'url', type: 'http', tokenInput: true },
})
