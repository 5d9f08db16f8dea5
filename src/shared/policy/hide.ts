/**
 * The `hide` list: hidden tools vanish from `tools/list` and a call to one is answered as if the
 * tool did not exist. Entries are exact names or globs; `"*"` hides every tool.
 */
import { globMatches } from './glob'
import type { Policy } from './types'

/** Whether the policy hides `tool`. */
export function isHidden(policy: Pick<Policy, 'hide'>, tool: string): boolean {
  return policy.hide.some((pattern) => globMatches(pattern, tool))
}

/** The tools the policy does not hide, in their original order (the items are not copied). */
export function filterToolsList<T extends { name: string }>(
  policy: Pick<Policy, 'hide'>,
  tools: readonly T[],
): T[] {
  return tools.filter((t) => !isHidden(policy, t.name))
}
