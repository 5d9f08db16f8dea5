/** A grant's scope in words, the same on the Approvals screen and on the tool's row. */
import type { GrantView } from '../../shared/contract/control-api'
import { formatDateTime, shortId } from './format'

const SCOPES: Record<GrantView['scope'], string> = {
  call: 'this exact call, once',
  session: 'this tool, for this session',
  tool: 'this tool, from every client and session',
  always: 'always: any arguments, from every client, until you revoke it',
}

/** E.g. "always: any arguments, from every client, until you revoke it"; with session and expiry. */
export function grantScopeText(g: GrantView): string {
  const parts = [
    g.scope === 'call' && g.by
      ? `its identical retry, once (allowed late by ${g.by})`
      : SCOPES[g.scope],
  ]
  if (g.session && g.scope === 'session') parts.push(`session ${shortId(g.session)}`)
  if (g.until) parts.push(`expires ${formatDateTime(g.until)}`)
  return parts.join(' · ')
}
