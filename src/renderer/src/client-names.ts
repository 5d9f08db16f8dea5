/**
 * Display names for the MCP clients people know, from the `clientInfo.name` they send in
 * `initialize`. An unknown name is shown as sent (escaped by the caller: an agent wrote it).
 */

const KNOWN: Readonly<Record<string, string>> = {
  'claude-ai': 'Claude Desktop',
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  'cursor-vscode': 'Cursor',
  cursor: 'Cursor',
  'visual studio code': 'VS Code',
  'visual studio code - insiders': 'VS Code Insiders',
  vscode: 'VS Code',
  'windsurf-client': 'Windsurf',
  windsurf: 'Windsurf',
  cline: 'Cline',
  'roo-code': 'Roo Code',
  zed: 'Zed',
  'gemini-cli-mcp-client': 'Gemini CLI',
  'codex-mcp-client': 'Codex',
  continue: 'Continue',
  goose: 'Goose',
  'mcp-inspector': 'MCP Inspector',
  'inspector-client': 'MCP Inspector',
}

/** The display name for a client's `clientInfo.name` (case-insensitive), else the name itself. */
export function clientDisplayName(name: string): string {
  return KNOWN[name.trim().toLowerCase()] ?? name
}
