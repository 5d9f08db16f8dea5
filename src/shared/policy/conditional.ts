/**
 * Whether a policy's decision for a tool depends on the call (its arguments, counters or client),
 * so that a summary computed for a call without arguments must not be read as the tool's only
 * outcome ("denied" for a tool denied only when a path matches).
 */
import { findToolEntry } from './glob'
import type { Policy } from './types'

/** True when a rule of `tool`'s entry or of the `"*"` entry has conditions, state or clients. */
export function dependsOnCall(policy: Policy, tool: string): boolean {
  const entry = findToolEntry(policy.tools, tool)
  const wildcard = policy.tools.find((t) => t.pattern === '*')
  return [entry, wildcard].some((e) =>
    (e?.rules ?? []).some(
      (r) => r.conditions.length > 0 || r.state !== undefined || (r.clients?.length ?? 0) > 0,
    ),
  )
}
