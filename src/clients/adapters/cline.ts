/**
 * Cline (the `saoudrizwan.claude-dev` extension): `cline_mcp_settings.json` in the extension's
 * global storage of each VS Code-family editor it may be installed in. Read with `JSON.parse`;
 * its own keys (`disabled`, `autoApprove`, `alwaysAllow`, `timeout`…) are kept.
 */
import type { ClientAdapter } from './adapter'
import { jsonClient } from './json-client'
import { appSupportDir, pathFor, userFile } from '../locations'

const EDITORS = ['Code', 'Code - Insiders', 'VSCodium', 'Cursor', 'Windsurf']

/** The Cline adapter. */
export const cline: ClientAdapter = jsonClient({
  id: 'cline',
  displayName: 'Cline',
  dialect: 'json',
  configFiles(env) {
    const p = pathFor(env)
    return EDITORS.map((editor) =>
      userFile(
        'cline',
        p.join(
          appSupportDir(env),
          editor,
          'User',
          'globalStorage',
          'saoudrizwan.claude-dev',
          'settings',
          'cline_mcp_settings.json',
        ),
      ),
    )
  },
})
