/**
 * Zed: `settings.json` (JSONC) under `~/.config/zed` (`$XDG_CONFIG_HOME/zed`; `%APPDATA%\Zed` on
 * Windows) and a project's `.zed/settings.json`; servers under `context_servers`, either
 * `{ command, args, env }` (with `source: "custom"`) or the older `{ command: { path, args, env } }`.
 * Extension-provided servers (`source: "extension"`) are listed, not wrapped.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { pathFor, projectFiles, userFile } from '../locations'

/** The Zed adapter. */
export const zed: ClientAdapter = jsonClient({
  id: 'zed',
  displayName: 'Zed',
  dialect: 'jsonc',
  configFiles(env) {
    const p = pathFor(env)
    const user =
      env.platform === 'win32'
        ? p.join(env.appData, 'Zed', 'settings.json')
        : p.join(env.xdgConfig, 'zed', 'settings.json')
    return [userFile('zed', user), ...projectFiles('zed', env, '.zed', 'settings.json')]
  },
  serverMaps: () => [{ path: ['context_servers'] }],
  unsupported: (value) =>
    value.source === 'extension' ? 'it is provided by a Zed extension' : undefined,
})
