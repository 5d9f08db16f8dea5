/** The text search of the audit log, shared by the CLI/gateway reader and the Activity view. */

/** The fields a text search covers (an audit record or an Activity row). */
export interface SearchableCall {
  tool?: string
  server?: string
  client?: string
  reason?: string
  detail?: string
  rule?: string
  callId?: string
  session?: string
  args?: unknown
}

/** Whether a call's searchable fields contain `text` (already lowercased), case-insensitively. */
export function matchesText(r: SearchableCall, text: string): boolean {
  const has = (v: string | undefined): boolean => v !== undefined && v.toLowerCase().includes(text)
  return (
    has(r.tool) ||
    has(r.server) ||
    has(r.client) ||
    has(r.reason) ||
    has(r.detail) ||
    has(r.rule) ||
    has(r.callId) ||
    has(r.session) ||
    (r.args !== undefined && has(JSON.stringify(r.args)))
  )
}
