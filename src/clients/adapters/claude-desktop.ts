/**
 * Claude Desktop: `claude_desktop_config.json`, read with `JSON.parse` (no comments, no trailing
 * commas). macOS `~/Library/Application Support/Claude`, Windows `%APPDATA%\Claude` and, for the
 * MSIX package, `%LOCALAPPDATA%\Packages\Claude_*\LocalCache\Roaming\Claude`, Linux (community
 * builds) `~/.config/Claude`.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { pathFor, userFile } from '../locations'

const FILE = 'claude_desktop_config.json'

/** The Claude Desktop adapter. */
export const claudeDesktop: ClientAdapter = jsonClient({
  id: 'claude-desktop',
  displayName: 'Claude Desktop',
  dialect: 'json',
  configFiles(env, dirs) {
    const p = pathFor(env)
    if (env.platform === 'darwin')
      return [
        userFile(
          'claude-desktop',
          p.join(env.home, 'Library', 'Application Support', 'Claude', FILE),
        ),
      ]
    if (env.platform === 'win32') {
      // The MSIX package reads a virtualised copy; the package id suffix varies, so glob it.
      const packages = p.join(env.localAppData, 'Packages')
      const msix = dirs
        .list(packages)
        .filter((d) => d.startsWith('Claude_'))
        .sort()
        .map((d) =>
          userFile('claude-desktop', p.join(packages, d, 'LocalCache', 'Roaming', 'Claude', FILE)),
        )
      return [...msix, userFile('claude-desktop', p.join(env.appData, 'Claude', FILE))]
    }
    return [userFile('claude-desktop', p.join(env.xdgConfig, 'Claude', FILE))]
  },
})
