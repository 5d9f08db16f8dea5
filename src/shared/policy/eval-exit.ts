/**
 * How a decision reads on a terminal: the exit code of `airlock policy eval` and one line of text.
 * (The CLI itself maps invalid input to exit code 3.)
 */
import type { Decision } from './types'

/** 0 allow, 1 deny / hidden / rate_limited, 2 needs approval. */
export function exitCodeFor(decision: Decision): 0 | 1 | 2 {
  switch (decision.kind) {
    case 'allow':
      return 0
    case 'deny':
    case 'hidden':
    case 'rate_limited':
      return 1
    case 'needs_approval':
      return 2
    default: {
      const never: never = decision
      throw new Error(`unknown decision ${JSON.stringify(never)}`)
    }
  }
}

/** One line for people, e.g. `deny (rule "no deletes"): Repository deletion is not permitted`. */
export function describeDecision(d: Decision): string {
  const by = 'rule' in d && d.rule !== undefined ? ` (rule "${d.rule}")` : ''
  switch (d.kind) {
    case 'allow': {
      const n = d.reservations.length
      return `allow${by}${n > 0 ? `, counting toward ${n} limit${n === 1 ? '' : 's'}` : ''}`
    }
    case 'deny':
      return `deny${by}: ${d.reason}`
    case 'hidden':
      return 'hidden: the policy hides this tool (the agent is told it does not exist)'
    case 'rate_limited':
      return `rate_limited${by}: ${d.reason}${d.retryAfterMs !== undefined ? ` (retry in ${Math.ceil(d.retryAfterMs / 1000)}s)` : ''}`
    case 'needs_approval':
      return `needs_approval${by}: ${d.reason ?? 'a person must allow this call'} (times out after ${Math.round(d.timeoutMs / 1000)}s)`
    default: {
      const never: never = d
      throw new Error(`unknown decision ${JSON.stringify(never)}`)
    }
  }
}
