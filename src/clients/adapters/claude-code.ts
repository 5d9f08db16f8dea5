/**
 * Claude Code: `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`) holds the user scope
 * (`mcpServers`) and the local scope of each project (`projects.<dir>.mcpServers`); a project's
 * shared scope is `<dir>/.mcp.json`. Read with `JSON.parse`.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { member, members } from '../formats/jsonc'
import { pathFor, projectFiles, userFile } from '../locations'

/** The Claude Code adapter. */
export const claudeCode: ClientAdapter = jsonClient({
  id: 'claude-code',
  displayName: 'Claude Code',
  dialect: 'json',
  httpEntry: { urlKey: 'url', type: 'http' },
  configFiles(env) {
    const p = pathFor(env)
    const dir = env.vars.CLAUDE_CONFIG_DIR || env.home
    return [
      userFile('claude-code', p.join(dir, '.claude.json')),
      ...projectFiles('claude-code', env, '.mcp.json'),
    ]
  },
  serverMaps(root, location) {
    if (location.scope === 'project') return [{ path: ['mcpServers'], scope: 'project' }]
    const local = members(member(root, 'projects')?.value).map(({ key }) => ({
      path: ['projects', key, 'mcpServers'],
      scope: 'local' as const,
      project: key,
    }))
    return [{ path: ['mcpServers'], scope: 'user' }, ...local]
  },
})
